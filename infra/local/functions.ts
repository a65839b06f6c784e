import { createAccessHandler } from '../../functions/access/app.ts';
import { createBillingHandler } from '../../functions/billing/app.ts';
import { createCatalogHandler } from '../../functions/catalog/app.ts';
import { createPurchasesHandler } from '../../functions/purchases/app.ts';
import type { ApiFunctionName } from '../../shared/http/routes.ts';
import type { Dependencies } from '../../shared/usecases/deps.ts';
import type { LambdaHandler } from './gateway.ts';

/**
 * The same handler factories the Lambda entry points call, wired with local adapters. A `Record` over
 * every API function name: adding a function to the route list without serving it here fails to compile.
 */
export const LOCAL_API_FUNCTIONS: Record<ApiFunctionName, (deps: Dependencies) => LambdaHandler> = {
  catalog: createCatalogHandler,
  purchases: createPurchasesHandler,
  access: createAccessHandler,
  billing: createBillingHandler,
};
