// The company and contact pages (documents/detail.graphql, documents/mutations.graphql):
// nested connections paged with `after`, mutation results holding the parent record, `node`
// refetch.
import {
  AddCompanyEmailDocument,
  AddDealOwnerDocument,
  AddPipelineStageDocument,
  CompanyContactsDocument,
  CompanyDetailDocument,
  ContactDetailDocument,
  CreateCompanyRelationshipDocument,
  NodeRefetchDocument,
  RemoveDealOwnerDocument,
  RemoveEmailDocument,
  SetPrimaryEmailDocument,
  type CompanyContactsQueryVariables,
  type CompanyDetailQuery,
  type EmailItemFragment,
} from '../generated/gql/graphql';
import type { Run } from './pages';

export function contactNames(data: CompanyDetailQuery): string[] {
  return (data.company?.contacts.edges ?? []).map(
    ({ node }) => `${node.firstName ?? ''} ${node.lastName}`.trim(),
  );
}

export async function companyPage(run: Run, id: string): Promise<string[]> {
  const data = await run(CompanyDetailDocument, { id });
  const deals = (data.company?.deals.edges ?? []).map(
    ({ node }) => `${node.title}: ${node.value} ${node.currency}`,
  );
  const more = data.company?.deals.pageInfo.hasNextPage ? ['…'] : [];
  return [...contactNames(data), ...deals, ...more];
}

/** Every contact of a company, following the nested connection's cursors to the end. */
export async function allContacts(run: Run, id: string): Promise<string[]> {
  const names: string[] = [];
  let variables: CompanyContactsQueryVariables = { id, first: 50 };
  for (;;) {
    const { company } = await run(CompanyContactsDocument, variables);
    if (company === null) return names;
    names.push(...company.contacts.edges.map(({ node }) => node.lastName));
    const { hasNextPage, endCursor } = company.contacts.pageInfo;
    if (!hasNextPage || endCursor === null) return names;
    variables = { ...variables, after: endCursor };
  }
}

export async function contactPage(run: Run, id: string): Promise<number> {
  const data = await run(ContactDetailDocument, { id });
  return data.contact?.deals.totalCount ?? 0;
}

export async function toggleOwner(run: Run, dealId: string, userId: string): Promise<boolean> {
  const added = await run(AddDealOwnerDocument, { dealId, userId });
  const hadIt = added.addDealOwner?.owners.some((o) => o.user.id === userId) ?? false;
  const removed = await run(RemoveDealOwnerDocument, { dealId, userId });
  const gone = !(removed.removeDealOwner?.owners.some((o) => o.user.id === userId) ?? true);
  return hadIt && gone;
}

export async function addEmail(run: Run, companyId: string, email: string): Promise<number> {
  const added = await run(AddCompanyEmailDocument, { companyId, input: { email } });
  return added.addCompanyEmail?.company?.emails.length ?? 0;
}

function primaryOf(emails: readonly EmailItemFragment[]): string | null {
  return emails.find((e) => e.isPrimary)?.email ?? null;
}

/** The parent's primary address after the change, whichever record owns the address. */
export async function makePrimary(run: Run, emailId: string): Promise<string | null> {
  const { setPrimaryEmail } = await run(SetPrimaryEmailDocument, { id: emailId });
  const parent = setPrimaryEmail?.company ?? setPrimaryEmail?.contact ?? null;
  return parent === null ? null : primaryOf(parent.emails);
}

export async function removeEmail(run: Run, emailId: string): Promise<number | null> {
  const { removeEmail } = await run(RemoveEmailDocument, { id: emailId });
  if (!removeEmail || removeEmail.removedId !== emailId) return null;
  return (removeEmail.company ?? removeEmail.contact)?.emails.length ?? 0;
}

export async function relate(
  run: Run,
  fromCompanyId: string,
  toCompanyId: string,
  typeId: string,
): Promise<string | null> {
  const variables = { fromCompanyId, toCompanyId, typeId };
  const { createCompanyRelationship } = await run(CreateCompanyRelationshipDocument, variables);
  if (!createCompanyRelationship) return null;
  const { relationship, fromCompany } = createCompanyRelationship;
  const count = fromCompany.relationships.edges.length;
  return `${relationship.type.name} ${relationship.toCompany.name} (${count})`;
}

export async function addColumn(run: Run, pipelineId: string, name: string): Promise<number> {
  const added = await run(AddPipelineStageDocument, { pipelineId, input: { name } });
  return added.addPipelineStage?.pipeline.stages.length ?? 0;
}

export async function refetch(run: Run, id: string): Promise<string | null> {
  const { node } = await run(NodeRefetchDocument, { id });
  if (node === null) return null;
  switch (node.__typename) {
    case 'Company':
      return node.name;
    case 'Deal':
      return node.title;
    case 'Contact':
      return node.lastName;
    default:
      return node.id;
  }
}
