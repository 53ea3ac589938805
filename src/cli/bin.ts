#!/usr/bin/env node
// The `tagraph` executable of the build (package.json "bin" points at its output, dist/cli.js).
import { runProcess } from './main.ts';

await runProcess();
