// Setup file of the vitest project "postgres": the file's shared PostgreSQL stops after its tests.
import { afterAll } from 'vitest';
import { stopSharedPostgres } from './runed.js';

afterAll(stopSharedPostgres);
