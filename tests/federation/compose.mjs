// Composes subgraph SDL files with Apollo's composition library; exits 1 on any error.
// Usage: node compose.mjs name=file.graphql [name=file.graphql ...]
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const services = process.argv.slice(2).map((arg) => {
  const [name, file] = arg.split("=");
  return { name, url: `http://${name}.invalid/graphql`, typeDefs: parse(readFileSync(file, "utf8")) };
});
const result = composeServices(services);
if (result.errors && result.errors.length) {
  for (const error of result.errors) console.error(`ERROR ${error.message}`);
  process.exit(1);
}
for (const hint of result.hints ?? []) console.log(`HINT ${hint.definition.code}: ${hint.message}`);
console.log(`COMPOSED ${services.length} subgraphs into a supergraph of ${result.supergraphSdl.length} characters`);
