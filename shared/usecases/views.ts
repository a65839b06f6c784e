/** The purchase page is a pure projection of the purchase; it lives with the domain (events carry it too). */
export { type PurchaseView, purchaseView } from '../domain/views.ts';
