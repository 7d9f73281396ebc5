// The names of the tutorial's pipe ends, which --trace, steps, compare and the
// web view show in place of descriptor numbers.

/** Names for the ends of the pipes, [read end, write end], in the order the program creates them. */
export type PipeNames = [readEnd: string, writeEnd: string][];

/** reference/src/main.rs: `let (parent_read, child_write) = create_pipe()?;`, then the reverse. */
export const TUTORIAL_PIPES: PipeNames = [
  ['parent_read', 'child_write'],
  ['child_read', 'parent_write'],
];
