import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors';

/** Each command lives in its own file under `commands/` and adds itself to the program. */
type Register = (program: Command) => void;

const commandModules: Array<() => { register: Register }> = [
  // Order is the order of `--help`.
  () => require('./commands/data'),
  () => require('./commands/info'),
  () => require('./commands/pretrain'),
  () => require('./commands/probe'),
  () => require('./commands/train'),
  () => require('./commands/study'),
  () => require('./commands/report'),
  () => require('./commands/bench'),
  () => require('./commands/notebooks'),
];

export function buildProgram(): Command {
  const program = new Command('cifar-ssl')
    .description('Self-supervised learning (SimCLR) on CIFAR-10 in TypeScript')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const load of commandModules) load().register(program);
  return program;
}

/** Runs the command line and resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0; usage errors were already printed.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UserError) {
      console.error(`error: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}
