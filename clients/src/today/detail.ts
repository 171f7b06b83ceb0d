// The detail pages against main's schema today (documents/today/): nested plain lists, bare
// Owner / Boolean / Email mutation results. Replaced by src/next/detail.ts with the items.
import {
  AddCompanyEmailDocument,
  AddDealOwnerDocument,
  CompanyDetailDocument,
  ContactDetailDocument,
  RemoveDealOwnerDocument,
  type CompanyDetailQuery,
} from '../../generated/gql/graphql';
import type { Run } from '../pages';

export function contactNames(data: CompanyDetailQuery): string[] {
  return (data.company?.contacts ?? []).map((c) => `${c.firstName ?? ''} ${c.lastName}`.trim());
}

export async function companyPage(run: Run, id: string): Promise<string[]> {
  const data = await run(CompanyDetailDocument, { id });
  const deals = (data.company?.deals ?? []).map((d) => `${d.title}: ${d.value} ${d.currency}`);
  return [...contactNames(data), ...deals];
}

export async function contactPage(run: Run, id: string): Promise<string | null> {
  const data = await run(ContactDetailDocument, { id });
  return data.contact?.birthday ?? null; // Date: "YYYY-MM-DD"
}

export async function toggleOwner(run: Run, dealId: string, userId: string): Promise<boolean> {
  const added = await run(AddDealOwnerDocument, { dealId, userId });
  const role: string = added.addDealOwner.role;
  const removed = await run(RemoveDealOwnerDocument, { dealId, userId });
  return role === 'OWNER' && removed.removeDealOwner;
}

export async function addEmail(run: Run, companyId: string, email: string): Promise<string> {
  const added = await run(AddCompanyEmailDocument, { companyId, input: { email } });
  return added.addCompanyEmail.id;
}
