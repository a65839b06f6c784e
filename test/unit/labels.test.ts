import { describe, expect, it } from '@jest/globals';
import { accessStatusRow, revokedLabel } from '../../shared/domain/labels.ts';
import type { Actor, SystemReason } from '../../shared/domain/types.ts';
import { ADMIN, AUTOMATION, activeGrant, revokedGrant } from './fixtures.ts';

describe('revokedLabel (rule 3 wording)', () => {
  it("labels an automation's revocation 'Revoked by automation'", () => {
    expect(revokedLabel({ type: 'automation', id: 'rule-1' })).toBe('Revoked by automation');
  });

  it("labels an admin's revocation 'Revoked by <email>'", () => {
    expect(revokedLabel({ type: 'admin', email: 'owner@example.com' })).toBe('Revoked by owner@example.com');
  });

  it("labels a support revocation 'Revoked by our support team' without showing the agent's email", () => {
    expect(revokedLabel({ type: 'support', email: 'agent@platform.example' })).toBe('Revoked by our support team');
  });

  it("labels a support revocation without an email 'Revoked by our support team'", () => {
    expect(revokedLabel({ type: 'support', email: null })).toBe('Revoked by our support team');
  });

  it.each<SystemReason>(['access_period_ended', 'cancellation_effective', 'processor_ended', 'pause_ended'])(
    "labels a system revocation (%s) plain 'Revoked'",
    (reason) => {
      expect(revokedLabel({ type: 'system', reason })).toBe('Revoked');
    },
  );

  it.each<[string, Actor]>([
    ['processor', { type: 'processor', processor: 'stripe', eventId: 'evt_1' }],
    ['customer', { type: 'customer', customerId: 'customer-1' }],
  ])("labels a %s revocation plain 'Revoked'", (_name, actor) => {
    expect(revokedLabel(actor)).toBe('Revoked');
  });
});

describe('accessStatusRow (rule 3)', () => {
  it('is null while every grant is active', () => {
    expect(accessStatusRow({ products: [activeGrant('course'), activeGrant('community')] })).toBeNull();
  });

  it('is null for a purchase without products', () => {
    expect(accessStatusRow({ products: [] })).toBeNull();
  });

  it("shows 'Access revoked' with the label of the only revoked grant", () => {
    const products = [
      activeGrant('course'),
      revokedGrant('community', '2026-03-01T10:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
    ];

    expect(accessStatusRow({ products })).toEqual({ status: 'Access revoked', label: 'Revoked by owner@example.com' });
  });

  it('shows the label of the latest revocation, wherever that grant sits in the list', () => {
    const products = [
      revokedGrant('course', '2026-03-02T00:00:00.000Z', AUTOMATION, 'Revoked by automation'),
      revokedGrant('community', '2026-03-01T00:00:00.000Z', ADMIN, 'Revoked by owner@example.com'),
    ];

    expect(accessStatusRow({ products })?.label).toBe('Revoked by automation');
  });

  it('breaks a tie between revocations at the same instant in favour of the later grant', () => {
    const at = '2026-03-01T00:00:00.000Z';
    const products = [
      revokedGrant('course', at, AUTOMATION, 'Revoked by automation'),
      revokedGrant('community', at, ADMIN, 'Revoked by owner@example.com'),
    ];

    expect(accessStatusRow({ products })?.label).toBe('Revoked by owner@example.com');
  });

  it("falls back to 'Revoked' for a revoked grant stored without a label", () => {
    const products = [{ ...activeGrant('course'), access: 'revoked' as const, revokedAt: '2026-03-01T00:00:00.000Z' }];

    expect(accessStatusRow({ products })).toEqual({ status: 'Access revoked', label: 'Revoked' });
  });
});
