// slimtrain serve DIR: a compress run's files on localhost, with browser.html, which
// times the sparse and slim models in the visitor's browser.
import { Option } from '@commander-js/extra-typings';
import { serveRun } from '../../report/serve.js';
import { commonCommand, number } from '../options.js';
import { printResult, untilSignal } from '../run.js';

const define = () =>
  commonCommand('serve')
    .description("serve a 'compress --out DIR' folder on localhost: open the URL to time its sparse and slim models in your browser")
    .argument('<dir>', 'the folder a compress --out run wrote')
    .addOption(new Option('--port <n>', 'port to listen on (0: any free port)').argParser(number('non-negative', true)).default(8080))
    .addOption(new Option('--host <address>', 'address to listen on (the page fetches nothing from elsewhere)').default('127.0.0.1'))
    .addOption(
      new Option('--repeats <n>', 'timed runs per model, backend and batch size (the median is shown)')
        .argParser(number('positive', true))
        .default(20),
    );

export function serveCommand() {
  return define().action(async (dir, o) => {
    const server = await serveRun(dir, { port: o.port, host: o.host, repeats: o.repeats });
    const { url } = server;
    printResult(
      o,
      { dir, url },
      () => `serving ${dir} at ${url}\nopen ${url} to time the sparse and slim models in your browser; Ctrl-C to stop\n`,
    );
    const signal = await untilSignal();
    await server.close();
    if (!o.quiet) process.stderr.write(`\nslimtrain: ${signal}: stopped serving ${dir}\n`);
  });
}
