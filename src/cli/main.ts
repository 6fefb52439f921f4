/** Entry of the `keel` command (bin/keel.js, `npm run keel -- <command>`). */
import { buildProgram } from './program.js';

await buildProgram(process.env).parseAsync(process.argv);
