// The detail pages against the issue-24 contract (documents/next/): nested connections,
// mutation results holding the parent record, `node` refetch.
import {
  AddCompanyEmailDocument,
  AddDealOwnerDocument,
  CompanyDetailDocument,
  ContactDetailDocument,
  NodeRefetchDocument,
  RemoveDealOwnerDocument,
  type CompanyDetailQuery,
} from '../../generated/gql/graphql';
import type { Run } from '../pages';

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
