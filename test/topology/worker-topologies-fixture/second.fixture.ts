import { reportTopology } from './report.ts';

reportTopology('second');
