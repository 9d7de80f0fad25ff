// A node:test reporter that writes one JSON object: the seconds each test
// file's top-level tests took, by path ({ "path": seconds }). Used by
// run-tests.mjs (HOLDFAST_RECORD_TEST_DURATIONS=1) to keep
// scripts/test-durations.json, which orders the files longest first.
export default async function* durations(source) {
  const perFile = {};
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data;
    if (nesting !== 0 || typeof file !== 'string' || typeof details?.duration_ms !== 'number') continue;
    perFile[file] = (perFile[file] ?? 0) + details.duration_ms / 1000;
  }
  yield `${JSON.stringify(perFile)}\n`;
}
