/**
 * A LIKE pattern that finds `text` anywhere, with its own % and _ taken literally.
 * Uses `!` as the escape character: MySQL and SQLite disagree on backslash, and
 * neither has a default escape character in common. Pair with `ESCAPE '!'`.
 */
export function likeContains(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}
