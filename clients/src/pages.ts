// Real usage of the generated types by the pages the documents belong to. `tsc --noEmit`
// (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes) must accept it unchanged:
// a schema change that breaks a page's code breaks this check first.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  CompaniesPageDocument,
  CreateCompanyDocument,
  DealBoardDocument,
  DealBoardChangesDocument,
  DealsInStageDocument,
  MoveDealDocument,
  TrashPageDocument,
  type CompaniesPageQuery,
  type CompaniesPageQueryVariables,
  type CompanyFilter,
  type CreateCompanyMutation,
  type DealBoardChangesSubscription,
  type DealBoardQuery,
  type MoveDealMutationVariables,
  type TrashPageQuery,
} from '../generated/gql/graphql';

/** What a client needs to run a typed document: Apollo's `client.query` has this shape. */
export type Run = <R, V>(document: TypedDocumentNode<R, V>, variables: V) => Promise<R>;

export interface CompanyRowView {
  id: string;
  name: string;
  owners: string[];
  openValue: string; // "1250.00 EUR, 90.00 USD": Decimal arrives as a string, kept exact
  lastActivity: Date | null;
}

export function companyRows(data: CompaniesPageQuery): CompanyRowView[] {
  return data.companies.edges.map(({ node }) => ({
    id: node.id,
    name: node.name,
    owners: node.owners.map((owner) => owner.user.name ?? owner.user.email ?? owner.user.id),
    openValue: node.openDealValue.map((m) => `${m.amount} ${m.currency}`).join(', '),
    lastActivity: node.lastActivityAt === null ? null : new Date(node.lastActivityAt),
  }));
}

export async function allCompanies(run: Run, search: string): Promise<CompanyRowView[]> {
  const filter: CompanyFilter = { search, status: ['ACTIVE'] };
  const rows: CompanyRowView[] = [];
  let variables: CompaniesPageQueryVariables = { first: 50, filter };
  for (;;) {
    const page = await run(CompaniesPageDocument, variables);
    rows.push(...companyRows(page));
    const { hasNextPage, endCursor } = page.companies.pageInfo;
    if (!hasNextPage || endCursor === null) return rows;
    variables = { ...variables, after: endCursor };
  }
}

export interface Column {
  stageId: string;
  name: string;
  kind: 'OPEN' | 'WON' | 'LOST';
  dealCount: number;
  totals: string[];
}

export function boardColumns(data: DealBoardQuery): Column[] {
  const pipeline = data.defaultPipeline;
  if (pipeline === null) return [];
  return pipeline.stages.map((stage) => {
    const summary = pipeline.summary.find((s) => s.stageId === stage.id);
    return {
      stageId: stage.id,
      name: stage.name,
      kind: stage.kind,
      dealCount: summary?.dealCount ?? 0,
      totals: (summary?.total ?? []).map((m) => `${m.amount} ${m.currency}`),
    };
  });
}

export async function loadBoard(run: Run): Promise<Map<string, string[]>> {
  const board = await run(DealBoardDocument, {});
  const pipeline = board.defaultPipeline;
  const titles = new Map<string, string[]>();
  if (pipeline === null) return titles;
  for (const column of boardColumns(board)) {
    const deals = await run(DealsInStageDocument, {
      pipelineId: pipeline.id,
      stageId: column.stageId,
    });
    titles.set(column.stageId, deals.deals.edges.map((e) => e.node.title));
  }
  return titles;
}

export async function moveDeal(run: Run, id: string, stageId: string): Promise<Column[]> {
  const variables: MoveDealMutationVariables = { id, stageId };
  const moved = await run(MoveDealDocument, variables);
  // After the payloads item the root field is nullable; `?.` keeps this valid either way.
  const pipeline = moved.moveDealToStage?.pipeline;
  return pipeline ? boardColumns({ __typename: 'Query', defaultPipeline: pipeline }) : [];
}

export function duplicatesWarning(result: CreateCompanyMutation): string | null {
  const created = result.createCompany;
  if (!created || created.possibleDuplicates.length === 0) return null;
  const names = created.possibleDuplicates.map(({ record, strength }) =>
    record.__typename === 'Company'
      ? `${record.name} (${strength})`
      : `${record.firstName ?? ''} ${record.lastName} (${strength})`.trim(),
  );
  return `Possible duplicates: ${names.join(', ')}`;
}

export async function createCompany(run: Run, name: string): Promise<string | null> {
  const result = await run(CreateCompanyDocument, { input: { name, tags: ['Messe 2027'] } });
  return duplicatesWarning(result);
}

export function boardEvent(change: DealBoardChangesSubscription): string {
  const { dealChanged } = change;
  const who = dealChanged.event.actor?.name ?? 'someone';
  if (!dealChanged.onBoard || dealChanged.deal === null) return `${who} took a deal off the board`;
  return `${who}: ${dealChanged.deal.title} is in ${dealChanged.deal.stage.name}`;
}

export const boardSubscription = DealBoardChangesDocument;

export function trashLabels(data: TrashPageQuery): string[] {
  return data.trash.edges.map(({ node }) => {
    const record = node.record;
    switch (record.__typename) {
      case 'Company':
        return `Company ${record.name}`;
      case 'Contact':
        return `Contact ${record.lastName}`;
      case 'Deal':
        return `Deal ${record.title} (${record.value} ${record.currency})`;
      case 'Activity':
        return `Activity ${record.subject}`;
      case 'Contract':
        return `Contract ${record.title}`;
    }
  });
}

export const trashDocument = TrashPageDocument;
