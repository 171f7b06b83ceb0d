// graphql-codegen over the repository's schema.graphql (a test keeps it equal to the code) and
// the frontend documents kept in documents/. Run by check.sh; output goes to the git-ignored
// generated/ folder.
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

const schema = process.env.CLIENTS_SCHEMA ?? '../schema.graphql';

const config: CodegenConfig = {
  schema,
  documents: ['documents/*.graphql'],
  ignoreNoDocuments: false,
  errorsOnly: true,
  generates: {
    'generated/gql/': {
      preset: 'client',
      // Every selection set asks for __typename, as Apollo's cache adds it to what it sends:
      // with TRUSTED_DOCUMENTS=only the server runs the manifest's text, and Apollo needs
      // __typename in the answer to normalize records (Company:<id>).
      documentTransforms: [addTypenameSelectionDocumentTransform],
      presetConfig: {
        // Emits generated/gql/persisted-documents.json ({"sha256:<hex>": "<document>"}), the
        // trusted-documents manifest the server reads (TRUSTED_DOCUMENTS_MANIFEST); each
        // generated document carries its key as __meta__.hash.
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
