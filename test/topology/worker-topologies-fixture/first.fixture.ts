import { reportTopology } from './report.ts';

reportTopology('first');
