#!/usr/bin/env node
// The `dbproof` command. dbproof is written in TypeScript and runs from source through
// tsx's loader, so there is no build step between a change and the CLI that runs it.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
