// Building the page without HTML strings: every tenant-supplied string and
// payload value becomes a text node (textContent), so nothing a tenant or an
// event writes can turn into markup or script. There is no innerHTML here.

export type Child = Node | string | number | null | undefined | false
type Props = Record<string, string | number | boolean | undefined | ((event: Event) => void)>

/** `<tag props…>children…</tag>`: `on*` props become listeners, booleans toggle attributes, strings are text. */
export function el<K extends keyof HTMLElementTagNameMap> (tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') node.addEventListener(name.slice(2), value)
    else if (value === true) node.setAttribute(name, '')
    else node.setAttribute(name, String(value))
  }
  append(node, children)
  return node
}

export function append (parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child)
  }
}

/** Replaces what `parent` shows. */
export function show (parent: Element, ...children: Child[]): void {
  parent.replaceChildren()
  append(parent, children)
}

let ids = 0
/** A fresh id for a label's `for`. */
export const uid = (prefix: string): string => `${prefix}-${++ids}`

/** A labelled input (the label names it for screen readers and is the click target). */
export function field (label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  const id = input.id === '' ? uid('f') : input.id
  input.id = id
  const hintNode = hint === undefined ? undefined : el('small', { id: `${id}-hint` }, hint)
  if (hintNode !== undefined) input.setAttribute('aria-describedby', hintNode.id)
  return el('div', { class: 'field' }, el('label', { for: id }, label), input, hintNode)
}

/** Pretty JSON as text (never markup). */
export const jsonBlock = (value: unknown): HTMLElement => el('pre', { class: 'json', tabindex: 0 }, JSON.stringify(value, null, 2))

/** A polite live region's message: screen readers announce it. */
export function announce (region: Element, text: string, kind: 'ok' | 'error' = 'ok'): void {
  show(region, el('p', { class: kind }, text))
}
