// What certkeep accepts as an email address: a deliberately plain shape. An
// ASCII local part (dot-atom) and a domain of at least two labels (letters of
// any script, digits, hyphens); no quotes, comments, spaces or line breaks, so
// an address can never carry a header into a message.
export const EMAIL_EXAMPLE = 'ops@example.com';

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const LABEL = /^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

export function isEmailAddress(text: string): boolean {
  const at = text.lastIndexOf('@');
  if (at < 1 || text.length > 254) return false;
  const local = text.slice(0, at);
  const labels = text.slice(at + 1).split('.');
  return (
    local.length <= 64 &&
    LOCAL.test(local) &&
    labels.length >= 2 &&
    labels.every((label) => LABEL.test(label))
  );
}

/** `a@example.com` or `Display Name <a@example.com>`: the address in it, or undefined. */
export function senderAddress(text: string): string | undefined {
  const named = /^[^<>"\r\n]*<([^<>]+)>$/.exec(text.trim());
  const address = named ? named[1] : text.trim();
  return isEmailAddress(address) ? address : undefined;
}
