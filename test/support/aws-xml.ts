// The Query protocol's XML answers, indented the way STS and IAM indent them.

export interface XmlElement {
  name: string;
  content: string | XmlElement[];
}

export function el(name: string, content: string | XmlElement[]): XmlElement {
  return { name, content };
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

function render(element: XmlElement, depth: number): string {
  const pad = "  ".repeat(depth);
  if (typeof element.content === "string") {
    return `${pad}<${element.name}>${escapeXml(element.content)}</${element.name}>\n`;
  }
  const children = element.content.map((child) => render(child, depth + 1)).join("");
  return `${pad}<${element.name}>\n${children}${pad}</${element.name}>\n`;
}

function document(name: string, namespace: string, children: XmlElement[]): string {
  return `<${name} xmlns="${namespace}">\n${children.map((child) => render(child, 1)).join("")}</${name}>\n`;
}

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`; actions that return nothing have no Result. */
export function successDocument(
  action: string,
  namespace: string,
  result: XmlElement[] | undefined,
  requestId: string,
): string {
  const metadata = el("ResponseMetadata", [el("RequestId", requestId)]);
  const children = result === undefined ? [metadata] : [el(`${action}Result`, result), metadata];
  return document(`${action}Response`, namespace, children);
}

export function errorDocument(
  namespace: string,
  error: { type: string; code: string; message: string },
  requestId: string,
): string {
  return document("ErrorResponse", namespace, [
    el("Error", [el("Type", error.type), el("Code", error.code), el("Message", error.message)]),
    el("RequestId", requestId),
  ]);
}
