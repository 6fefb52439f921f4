/**
 * `npm start`: load the configuration from the environment (a bad value stops here with one line
 * on stderr and exit code 1) and start the server. SIGINT/SIGTERM shut it down with exit code 0.
 */
import { exitOnStartupError } from './cli/exit.js';
import { loadConfig } from './platform/config.js';

try {
  const config = loadConfig(process.env);
  // Imported after the configuration is valid: a bad value is reported before any driver loads.
  const { startKeel } = await import('./server/index.js');
  await startKeel(config);
} catch (error) {
  exitOnStartupError(error);
}
