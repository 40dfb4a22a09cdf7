#!/usr/bin/env node
// The `cvlab` command line. Plain Node: it never loads Electron.
import { Command } from 'commander';

const program = new Command();
program.name('cvlab').description('Bench console for a chat-controlled LZX video synth').version('0.1.0');
await program.parseAsync(process.argv);
