// Trusted documents end to end (issue 24, item 4): a server started with TRUSTED_DOCUMENTS=only
// and the manifest check.sh generated (generated/gql/persisted-documents.json) runs the
// frontend's generated documents sent by hash, and refuses anything else. Apollo Client sends
// each document's manifest key (`__meta__.hash`) through the persisted-query link, with
// relayStylePagination and no hand-written cache update, as apollo-e2e.mjs does with APQ.
//
//   CRM_URL=... CRM_TOKEN=... E2E_FIXTURE=<apollo-e2e.mjs's fixture> node trusted-e2e.mjs
//
// clients/e2e.sh runs it after apollo-e2e.mjs, against the same data restarted in `only` mode.
// The documents are imported from the generated TypeScript (Node 22 strips the types).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql, split } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { relayStylePagination } from '@apollo/client/utilities';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';
import { getOperationAST, print } from 'graphql';
import { createClient } from 'graphql-ws';
import { Observable } from 'rxjs';
import WebSocket from 'ws';
import {
  AddCompanyEmailDocument,
  CompaniesPageDocument,
  CompanyContactsDocument,
  CompanyDetailDocument,
  DealBoardChangesDocument,
  MoveDealDocument,
  NodeRefetchDocument,
} from './generated/gql/graphql.ts';

const URL_ = process.env.CRM_URL;
const TOKEN = process.env.CRM_TOKEN;
const fixture = JSON.parse(readFileSync(process.env.E2E_FIXTURE, 'utf8'));
const manifest = JSON.parse(readFileSync(new URL('generated/gql/persisted-documents.json', import.meta.url), 'utf8'));
const WAIT_MS = 10_000;

const sent = [];
async function recordingFetch(uri, init) {
  const response = await fetch(uri, init);
  const body = JSON.parse(init.body);
  const answer = await response.clone().json().catch(() => ({}));
  sent.push({ withText: Boolean(body.query), status: response.status, codes: (answer.errors ?? []).map((e) => e.extensions?.code) });
  return response;
}
// The manifest key of a generated document, as README shows it for Apollo's link; any other
// document (not generated, so not in the manifest) by the SHA-256 of its text, as APQ does.
const manifestHash = (document) =>
  document.__meta__?.hash ?? createHash('sha256').update(print(document)).digest('hex');
const http = new PersistedQueryLink({ generateHash: manifestHash }).concat(
  new HttpLink({ uri: URL_, headers: { authorization: `Bearer ${TOKEN}` }, fetch: recordingFetch }),
);
// GraphQLWsLink prints the document, and that text is not the manifest's (the preset prints
// it normalized: fields sorted, on one line), so `only` would refuse it; graphql-ws's client
// sends no operation without a `query` string. Subscriptions send the manifest's own text,
// printed the way the preset prints it, with its id (the server checks they agree).
const ws = createClient({
  url: URL_.replace(/^http/, 'ws'),
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${TOKEN}` },
  lazy: true,
});
const wsByDocumentId = new ApolloLink(
  (operation) =>
    new Observable((observer) =>
      ws.subscribe(
        {
          query: printExecutableGraphQLDocument(operation.query),
          documentId: manifestHash(operation.query),
          variables: operation.variables,
          operationName: operation.operationName,
        },
        observer,
      ),
    ),
);
const isSubscription = ({ query }) => getOperationAST(query)?.operation === 'subscription';
const cache = new InMemoryCache({
  typePolicies: {
    Query: { fields: { companies: relayStylePagination(['filter', 'orderBy']) } },
    Company: { fields: { contacts: relayStylePagination(['orderBy']), deals: relayStylePagination(['orderBy']) } },
    Owner: { keyFields: false },
    StageSummary: { keyFields: false },
    Money: { keyFields: false },
  },
});
const client = new ApolloClient({ cache, link: split(isSubscription, wsByDocumentId, http) });

let failures = 0;
async function step(name, run) {
  try {
    const detail = await run();
    console.log(`PASS ${name}${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    failures += 1;
    const message = error?.errors?.map((e) => `${e.message} (${e.extensions?.code})`).join('; ') || error?.message || error;
    console.log(`FAIL ${name}: ${String(message).slice(0, 400)}`);
  }
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}
const byHashOnly = (requests) => requests.every((r) => !r.withText && r.status === 200 && r.codes.length === 0);

async function main() {
  console.log(`trusted-e2e: ${URL_} (TRUSTED_DOCUMENTS=only, ${Object.keys(manifest).length} manifest documents)`);
  const { tag, companies, contacts, deal, pipeline } = fixture;

  await step('manifest queries sent by hash alone answer (companies, company page, node)', async () => {
    const page = (await client.query({ query: CompaniesPageDocument, variables: { first: 3, filter: { tag } } })).data;
    check(page.companies.totalCount === companies.length, `totalCount ${page.companies.totalCount}`);
    check(page.companies.edges.length === 3, 'the first page');
    const detail = (await client.query({ query: CompanyDetailDocument, variables: { id: companies[1].id } })).data;
    check(detail.company.contacts.totalCount === contacts.length, 'the company page lists its contacts');
    const node = (await client.query({ query: NodeRefetchDocument, variables: { id: deal.id } })).data.node;
    check(node?.__typename === 'Deal' && node.id === deal.id, 'node answers the deal');
    check(cache.identify(node) === `Deal:${deal.id}`, 'normalized as Deal:<id>');
    check(sent.length === 3 && byHashOnly(sent), `not all by hash alone: ${JSON.stringify(sent)}`);
    return `${sent.length} requests, no document text sent, every one answered`;
  });

  await step('company.contacts fetchMore by hash merges under relayStylePagination', async () => {
    const variables = { id: companies[1].id, first: 2 };
    const sentBefore = sent.length;
    const watched = client.watchQuery({ query: CompanyContactsDocument, variables });
    let page = (await watched.refetch()).data.company.contacts;
    while (page.pageInfo.hasNextPage) {
      check(page.edges.length < contacts.length, 'hasNextPage never ends');
      await watched.fetchMore({ variables: { after: page.pageInfo.endCursor } });
      page = client.readQuery({ query: CompanyContactsDocument, variables }).company.contacts;
    }
    const ids = page.edges.map((e) => e.node.id);
    check(ids.length === contacts.length && ids.every((id) => contacts.includes(id)), `merged ${ids}`);
    check(byHashOnly(sent.slice(sentBefore)), 'a page went with its text or failed');
    return `${ids.length} contacts in ${sent.length - sentBefore} requests`;
  });

  await step('a manifest mutation by hash updates the cached company page', async () => {
    const id = companies[3].id;
    const before = (await client.query({ query: CompanyDetailDocument, variables: { id } })).data.company.emails;
    const email = `${tag}-trusted@example.de`;
    const sentBefore = sent.length;
    await client.mutate({ mutation: AddCompanyEmailDocument, variables: { companyId: id, input: { email } } });
    const cached = client.readQuery({ query: CompanyDetailDocument, variables: { id } }).company.emails;
    check(cached.length === before.length + 1 && cached.some((e) => e.email === email), `cached ${JSON.stringify(cached)}`);
    check(byHashOnly(sent.slice(sentBefore)), 'the mutation went with its text or failed');
    return 'the cached company page lists the new address';
  });

  await step("a subscription in the manifest's text over graphql-ws receives a manifest mutation's change", async () => {
    const stage = pipeline.stages[0].id;
    let arrived;
    const event = new Promise((resolve, reject) => (arrived = { resolve, reject }));
    const subscription = client
      .subscribe({ query: DealBoardChangesDocument, variables: { pipelineId: pipeline.id } })
      .subscribe({
        next: ({ data, error }) => (error ? arrived.reject(error) : data?.dealChanged?.dealId === deal.id && arrived.resolve(data.dealChanged)),
        error: (error) => arrived.reject(error),
      });
    try {
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('no dealChanged event')), WAIT_MS));
      // The server subscribes once the socket is open: move until an event arrives.
      const moving = (async () => {
        const stages = [stage, pipeline.stages[1].id];
        for (let i = 0; i < 20; i += 1) {
          await client.mutate({ mutation: MoveDealDocument, variables: { id: deal.id, stageId: stages[i % 2] } });
          if (await Promise.race([event.then(() => true), new Promise((r) => setTimeout(() => r(false), 250))])) return;
        }
      })();
      const change = await Promise.race([event, timeout]);
      await moving;
      return `${change.event.type} for Deal:${change.dealId}`;
    } finally {
      subscription.unsubscribe();
    }
  });

  await step('documentId (GraphQL-over-HTTP form) of a manifest document answers', async () => {
    const [key] = Object.entries(manifest).find(([, text]) => text.includes('query NodeRefetch'));
    const answer = await post({ documentId: key, variables: { id: companies[0].id } });
    check(answer.status === 200 && answer.body.data?.node?.id === companies[0].id, JSON.stringify(answer.body));
    return `${key.slice(0, 20)}…`;
  });

  await step('an ad-hoc document is refused: by Apollo (by its hash) and as plain text', async () => {
    const adHoc = gql`
      query AdHoc {
        me {
          user {
            id
          }
        }
      }
    `;
    const refusal = await client.query({ query: adHoc, fetchPolicy: 'network-only' }).then(
      () => null,
      (error) => error,
    );
    check(refusal, 'Apollo ran a document that is not in the manifest');
    const apolloCode = refusal.errors?.[0]?.extensions?.code ?? refusal.result?.errors?.[0]?.extensions?.code;
    check(apolloCode === 'PERSISTED_DOCUMENT_NOT_ALLOWED', `Apollo got ${refusal.name}: ${refusal.message}`);
    const text = await post({ query: '{ me { user { id } } }' });
    check(text.status === 400, `HTTP ${text.status}`);
    const code = text.body.errors?.[0]?.extensions?.code;
    check(code === 'PERSISTED_DOCUMENT_NOT_ALLOWED', `code ${code}`);
    return `Apollo: ${refusal.name} ${apolloCode}; text: HTTP 400 ${code}`;
  });
}

async function post(body) {
  const response = await fetch(URL_, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

try {
  await main();
} catch (error) {
  failures += 1;
  console.log(`FAIL setup: ${error?.message ?? error}`);
} finally {
  await ws.dispose();
  client.stop();
}
console.log(failures ? `trusted-e2e: ${failures} step(s) failed` : 'trusted-e2e: all steps passed');
process.exit(failures ? 1 : 0);
