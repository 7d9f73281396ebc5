// The fork server's full garbage collection, taken before anything else in
// the server loads (server-main.ts imports this module first).
//
// The server collects once, after its preload and before its first fork:
// what the preload built last is still in the young generation then, with
// old objects pointing to it, and each child's first scavenge would move it
// and rewrite those pointers in its copy of the heap, privately (a 250 MB
// catalogue: 64 MiB private per child, 36 MiB after this). A full collection
// moves it to the old generation once, in the server.
//
// `gc` comes from the server's own context: the client starts it with
// --expose-gc, and here the global is set to undefined (V8 makes it
// non-configurable) and the flag is dropped. Two costs are avoided that way:
//  - a context made only to reach gc stayed on V8's list of contexts in
//    every child, and each child then built one more to reseed Math.random()
//    in all of them (about 0.8 ms of each child's start);
//  - while --expose-gc is set, V8's flag hash differs from the one Node's
//    builtin modules were cached with, and every builtin loaded meanwhile is
//    compiled from source (require('http') about 4 times slower), in the
//    server and in every child. Dropping the flag at once limits that to
//    the modules loaded before this one.
import { setFlagsFromString } from 'node:v8';

const scope = globalThis as { gc?: () => void };
const gc = scope.gc!;
scope.gc = undefined;
const flag = process.execArgv.indexOf('--expose-gc');
if (flag !== -1) process.execArgv.splice(flag, 1);
setFlagsFromString('--no-expose-gc'); // contexts the jobs make get no gc either

/** A full garbage collection of the server's heap. */
export function collectGarbage(): void {
  gc();
}
