// Runs every server audit of graphql-http against the URL given as the first argument and
// fails unless all MUST and SHOULD audits pass (MAY audits are reported, not required).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs http://127.0.0.1:8080/graphql');
  process.exit(2);
}

let passed = 0;
let failed = 0;
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  const required = !audit.name.startsWith('MAY');
  if (result.status === 'ok') {
    passed += 1;
  } else if (required) {
    failed += 1;
    console.log(`FAIL ${audit.id} ${audit.name}: ${result.reason}`);
  } else {
    console.log(`note ${audit.id} ${audit.name}: ${result.reason}`);
  }
}
console.log(`audits: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
