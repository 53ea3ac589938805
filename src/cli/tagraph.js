#!/usr/bin/env node
// The `tagraph` executable (package.json "bin"): registers tsx so the TypeScript sources run as
// they are, then runs the command line.
import { register } from 'tsx/esm/api';

register();
const { runProcess } = await import('./main.ts');
await runProcess();
