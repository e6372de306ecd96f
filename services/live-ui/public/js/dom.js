// @ts-check
// Element lookup shared by the dashboard's modules.

/** @param {string} id */
export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** An element of a given kind, e.g. `$as('page-prev', HTMLButtonElement)`.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} kind
 * @returns {T} */
export const $as = (id, kind) => {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`#${id} is not a ${kind.name}`);
  return el;
};
