// The fork server: warm children forked from a quiet process (docs/fork-server.md).
export { ForkServer, startForkServer } from './client';
export type {
  ForkServerChild,
  ForkServerForkOptions,
  ForkServerOptions,
  ForkServerStdio,
  JobThrewError,
} from './client';
