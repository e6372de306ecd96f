import type { BookingsOrder, Filters } from '@cdc/read-model';

/**
 * The API's query parameters as the handlers receive them (validated by the routes' JSON
 * schemas, see api-schemas.ts and http-query.ts). The filters, sort columns and the SQL they
 * turn into belong to the read model (`@cdc/read-model`).
 */
export const MAX_PAGE_SIZE = 500;

export type CsvQuery = Filters & BookingsOrder;

export interface BookingsQuery extends CsvQuery {
  page: number;
  pageSize: number;
}

/** Websocket upgrade: `?since=<version>&epoch=<id>` to resume, both or neither. */
export interface WsQuery {
  since?: number;
  epoch?: string;
}
