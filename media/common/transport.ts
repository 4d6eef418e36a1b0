// The page's only link to the extension host. In VS Code it wraps acquireVsCodeApi(); the
// webview tests inject their own acquireVsCodeApi before the page loads.

interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export interface Transport<In, Out, S> {
  post(message: Out): void;
  onMessage(handler: (message: In) => void): void;
  getState(): S | undefined;
  setState(state: S): void;
}

export function vscodeTransport<In, Out, S>(): Transport<In, Out, S> {
  const api = acquireVsCodeApi<S>();
  return {
    post: (m) => api.postMessage(m),
    onMessage: (handler) => window.addEventListener('message', (e: MessageEvent<In>) => handler(e.data)),
    getState: () => api.getState(),
    setState: (s) => api.setState(s),
  };
}

/** Tiny DOM helper: text only, never HTML, so indexed data cannot inject markup. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: { className?: string; text?: string; attrs?: Record<string, string> },
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K];
export function el(
  tag: string,
  props?: { className?: string; text?: string; attrs?: Record<string, string> },
  ...children: (Node | string)[]
): HTMLElement;
export function el(
  tag: string,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElement {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}
