/** The errcodes that mean WeChat no longer accepts the access token sent. */
export const TOKEN_ERRCODES = new Set([40001, 40014, 42001]);
/** WeChat rotates a stable token 5 minutes before it expires; stop using ours by then. */
const TOKEN_EARLY_REFRESH_MS = 5 * 60_000;

export interface IssuedToken {
  token: string;
  expiresInSeconds: number;
}

/** Access tokens per account, shared by every operation of one adapter instance. */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; usableUntil: number }>();
  private readonly fetching = new Map<string, Promise<string>>();

  constructor(private readonly now: () => number) {}

  /**
   * A usable token; never `rejected`, the one WeChat just refused. Stable tokens are shared
   * by every process of the account, so a refresh asks for the current one first and forces
   * a new one (which invalidates the others' copies) only when WeChat hands back the refused one.
   */
  async get(
    key: string,
    fetchToken: (forceRefresh: boolean) => Promise<IssuedToken>,
    rejected?: string,
  ): Promise<string> {
    const cached = this.tokens.get(key);
    if (cached && cached.token !== rejected && this.now() < cached.usableUntil) {
      return cached.token;
    }
    if (cached) this.tokens.delete(key);
    let fetching = this.fetching.get(key);
    if (!fetching) {
      fetching = this.refresh(key, fetchToken, rejected).finally(() => this.fetching.delete(key));
      this.fetching.set(key, fetching);
    }
    const token = await fetching;
    return token === rejected ? this.refresh(key, fetchToken, rejected) : token;
  }

  private async refresh(
    key: string,
    fetchToken: (forceRefresh: boolean) => Promise<IssuedToken>,
    rejected?: string,
  ): Promise<string> {
    let issued = await fetchToken(false);
    if (rejected !== undefined && issued.token === rejected) issued = await fetchToken(true);
    this.tokens.set(key, {
      token: issued.token,
      usableUntil: this.now() + issued.expiresInSeconds * 1000 - TOKEN_EARLY_REFRESH_MS,
    });
    return issued.token;
  }
}
