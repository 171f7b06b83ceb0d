// graphql-codegen over the repository's schema.graphql (a test keeps it equal to the code) and
// the frontend documents kept in documents/. Run by check.sh; output goes to the git-ignored
// generated/ folder.
//
// Stage: documents/*.graphql hold what is valid on main today and after issue 24's items 1-3;
// documents/today/ what only main's current schema has (plain nested lists, bare Owner/Email
// mutation results); documents/next/ the same pages written against the issue-24 contract
// (node, mutation payloads, nested connections). CLIENTS_STAGE=next takes next/ instead of
// today/; once the items are merged, next/ replaces today/ and the switch goes.
import type { CodegenConfig } from '@graphql-codegen/cli';

const stage = process.env.CLIENTS_STAGE === 'next' ? 'next' : 'today';
const schema = process.env.CLIENTS_SCHEMA ?? '../schema.graphql';

const config: CodegenConfig = {
  schema,
  documents: ['documents/*.graphql', `documents/${stage}/*.graphql`],
  ignoreNoDocuments: false,
  errorsOnly: true,
  generates: {
    'generated/gql/': {
      preset: 'client',
      presetConfig: {
        // Emits generated/gql/persisted-documents.json ({"<sha256 hex>": "<document>"}), the
        // trusted-documents manifest the server reads (TRUSTED_DOCUMENTS_MANIFEST).
        persistedDocuments: { hashAlgorithm: 'sha256' },
        fragmentMasking: false,
      },
      config: {
        // The server's wire forms (see each scalar's description and @specifiedBy):
        // DateTime "2027-01-15T08:00:00+00:00", Date "2027-01-15", Decimal "1250.00",
        // JSON any JSON value. All arrive as strings but JSON; parse at the edge, not here.
        scalars: {
          DateTime: 'string',
          Date: 'string',
          Decimal: 'string',
          JSON: 'unknown',
        },
        strictScalars: true,
        // String-literal unions instead of TypeScript enums: no runtime code, and a new enum
        // value on the server is one more literal rather than a generated enum to import.
        enumsAsTypes: true,
        useTypeImports: true,
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        nonOptionalTypename: true,
      },
    },
  },
};

export default config;
