/**
 * .github/workflows/ci.yml against SchemaStore's GitHub workflow schema, and the jobs the docs
 * promise: `npm test`, the event-store contract suite on a real EventStoreDB (the server
 * docker-compose.yml runs, with the same settings), and the image build. GitHub is out of reach
 * here: the workflow is checked, not run.
 */
import { describe, expect, it } from 'vitest';
import { at, errorLines, field, list, readText, readYaml, schemaValidator } from './manifests.js';

const workflow = readYaml('.github/workflows/ci.yml');
const jobs = field(workflow, 'jobs');
const runs = (job: string): string[] => list(field(jobs, job), 'steps').map((step) => String(at(step, 'run') ?? ''));

describe('.github/workflows/ci.yml', () => {
  it('is valid against the GitHub workflow JSON schema (SchemaStore)', () => {
    const validate = schemaValidator('github-workflow.json');
    const valid = validate(workflow);
    expect(errorLines(validate.errors)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is checked strictly: the schema refuses a misspelled job key', () => {
    const validate = schemaValidator('github-workflow.json');
    const misspelled = structuredClone(workflow);
    field(field(misspelled, 'jobs'), 'test')['run-on'] = 'ubuntu-latest';
    expect(validate(misspelled)).toBe(false);
  });

  it('runs `npm test` after `npm ci` on Node 20', () => {
    const steps = runs('test');
    expect(steps.findIndex((run) => run.startsWith('npm ci'))).toBeGreaterThanOrEqual(0);
    expect(steps.indexOf('npm test')).toBeGreaterThan(steps.findIndex((run) => run.startsWith('npm ci')));
    expect(String(at(jobs, 'test.container.image'))).toMatch(/^node:20-/);
  });

  it('runs the event-store contract suite against an EventStoreDB service container like the one docker-compose.yml runs', () => {
    const job = field(jobs, 'eventstore-contract');
    const service = field(field(job, 'services'), 'eventstore');
    const composed = field(field(readYaml('docker-compose.yml'), 'services'), 'eventstore');
    expect(service.image).toBe(composed.image);
    expect(service.env).toEqual(composed.environment);
    expect(list(service, 'ports')).toContain('2113:2113');
    expect(String(service.options)).toContain('--health-cmd');
    const step = list(job, 'steps').find((s) => String(at(s, 'run') ?? '').includes('test/contract/esdb.test.ts'));
    expect(step).toBeDefined();
    expect(at(step, 'run')).toBe('npx vitest run test/contract/esdb.test.ts');
    expect(at(step, 'env.EVENTSTORE_URL')).toBe('esdb://localhost:2113?tls=false');
    // The suite switches from its protocol double to the server when EVENTSTORE_URL is set.
    expect(readText('test/contract/esdb.test.ts')).toContain('process.env.EVENTSTORE_URL');
  });

  it('builds the Dockerfile and checks docker-compose.yml with Docker Compose', () => {
    const steps = runs('image');
    expect(steps).toContain('docker compose config --quiet');
    expect(steps.some((run) => run.startsWith('docker build '))).toBe(true);
  });
});
