/**
 * The OpenAPI document a real coordinator serves meets what Redocly's recommended ruleset asks
 * for (servers, a summary and a unique operationId on every operation, `nullable` only beside a
 * `type`, every security requirement naming a defined scheme). Written over the whole document,
 * not a list of routes, so a route added later is held to the same bar.
 */
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCoordinator, type TestCoordinator } from '../testing.ts';

interface Operation {
  operationId?: string;
  summary?: string;
  security?: Record<string, string[]>[];
}
interface Document {
  openapi: string;
  servers?: { url: string }[];
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Every place in the document where `nullable` appears without a `type` beside it. */
function untypedNullables(node: unknown, at = '#'): string[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => untypedNullables(item, `${at}/${i}`));
  if (node === null || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  const here = 'nullable' in record && !('type' in record) ? [at] : [];
  return [...here, ...Object.entries(record).flatMap(([k, v]) => untypedNullables(v, `${at}/${k}`))];
}

describe('OpenAPI document', () => {
  let co: TestCoordinator;
  let doc: Document;
  let operations: { name: string; op: Operation }[];

  beforeAll(async () => {
    co = await startTestCoordinator();
    const res = await fetch(`${co.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    doc = await res.json();
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.has(method))
        .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, op })),
    );
  });
  afterAll(async () => co.destroy());

  it('is OpenAPI 3.0 with a server and the routes of every module', () => {
    expect(doc.openapi).toMatch(/^3\.0\./);
    expect(doc.servers?.length).toBeGreaterThan(0);
    const paths = Object.keys(doc.paths);
    expect(paths).toEqual(expect.arrayContaining(['/jobs', '/models', '/sweeps', '/tokens']));
    expect(operations.length).toBeGreaterThanOrEqual(28);
  });

  it('gives every operation a summary and a unique camelCase operationId', () => {
    const missing = operations.filter(({ op }) => !op.summary?.trim() || !op.operationId).map((o) => o.name);
    expect(missing).toEqual([]);
    const ids = operations.map(({ op }) => op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    const notCamel = operations.filter(({ op }) => !/^[a-z][a-zA-Z0-9]*$/.test(op.operationId ?? ''));
    expect(notCamel.map((o) => o.name)).toEqual([]);
  });

  it('states the security of every operation, and names only defined schemes', () => {
    const defined = new Set(Object.keys(doc.components?.securitySchemes ?? {}));
    expect(defined.size).toBeGreaterThan(0);
    const unstated = operations.filter(({ op }) => !op.security && !doc.security).map((o) => o.name);
    expect(unstated).toEqual([]);
    const undefinedNames = operations.flatMap(({ name, op }) =>
      (op.security ?? doc.security ?? [])
        .flatMap((requirement) => Object.keys(requirement))
        .filter((scheme) => !defined.has(scheme))
        .map((scheme) => `${name}: ${scheme}`),
    );
    expect(undefinedNames).toEqual([]);
    // The admin routes really require the bearer scheme; public reads state an empty requirement.
    const createJob = operations.find((o) => o.name === 'POST /jobs')!.op;
    expect(createJob.security).toEqual([{ bearer: [] }]);
    expect(operations.find((o) => o.name === 'GET /jobs')!.op.security).toEqual([]);
  });

  it('puts `nullable` only beside a `type`', () => {
    expect(untypedNullables(doc)).toEqual([]);
  });

  it("passes Redocly's recommended ruleset with no errors", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({
      source: JSON.stringify(doc),
      absoluteRef: 'openapi.json',
      config,
    });
    const errors = problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
    expect(errors).toEqual([]);
  });
});
