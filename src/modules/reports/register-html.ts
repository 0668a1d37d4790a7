import { describeState, PostState } from 'src/modules/posts/post-state-machine';

/** Everything the printed 审核登记表 shows, already resolved to names. */
export interface RegisterData {
  post: {
    id: string;
    title: string;
    state: PostState;
    department: string;
    author: string;
    createdAt: Date;
    currentRevisionNumber: number;
  };
  revisions: { number: number; title: string; createdAt: Date; contentHash: string }[];
  decisions: {
    round: number;
    level: number;
    outcome: string;
    reviewer: string;
    roles: string;
    createdAt: Date;
    comment: string | null;
    revisionNumber: number;
    contentHash: string;
    attestation: Record<string, boolean> | null;
    auditEventId: number | null;
  }[];
  publications: {
    channel: string;
    platform: string;
    status: string;
    url: string | null;
    publishedAt: Date | null;
    contentHash: string;
    lastError: string | null;
  }[];
  chainHead: { lastEventId: number; headHash: string };
  generatedAt: Date;
  generatedBy: string;
}

const LEVELS: Record<number, string> = {
  1: '一审（作者自审）',
  2: '二审（部门审核）',
  3: '三审（宣传部终审）',
};

const ATTESTATION: [string, string][] = [
  ['factual', '内容真实准确'],
  ['sourced', '信息来源已注明'],
  ['noSensitiveContent', '无政治敏感及有害内容'],
  ['imagesLicensed', '图片已获授权'],
];

const PUBLICATION_STATUS: Record<string, string> = {
  queued: '待发布',
  sending: '发送中',
  published: '已发布',
  failed: '发布失败',
  retracting: '撤稿中',
  retracted: '已撤稿',
  cancelled: '已取消',
};

const PLATFORMS: Record<string, string> = {
  wechat_mp: '微信公众号',
  weibo: '微博',
  douyin: '抖音',
  website: '网站',
  webhook: 'Webhook',
};

/** Text for HTML content and quoted attributes: nothing from the database is ever markup. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** Beijing time (UTC+8, no daylight saving), as a register is read and signed there. */
export function beijingTime(d: Date | null): string {
  if (!d) return '—';
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function outcomeLabel(level: number, outcome: string): string {
  if (level === 1) return '提交送审';
  return outcome === 'approve' ? '通过' : '退回';
}

const e = escapeHtml;

function table(caption: string, head: string[], rows: string[][], empty = '无'): string {
  const body = rows.length
    ? rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')
    : `<tr><td colspan="${head.length}" class="empty">${e(empty)}</td></tr>`;
  return `<table>
<caption>${e(caption)}</caption>
<thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody>
</table>`;
}

const hash = (h: string) => `<span class="hash">${e(h)}</span>`;

export function renderRegister(d: RegisterData): string {
  const p = d.post;
  const info = `<table class="info">
<caption>一、稿件信息</caption>
<tbody>
<tr><th>标题</th><td colspan="3">${e(p.title)}</td></tr>
<tr><th>稿件编号</th><td colspan="3">${hash(p.id)}</td></tr>
<tr><th>所属部门</th><td>${e(p.department)}</td><th>作者</th><td>${e(p.author)}</td></tr>
<tr><th>创建时间</th><td>${e(beijingTime(p.createdAt))}</td><th>当前状态</th><td>${e(describeState(p.state).zh)}</td></tr>
<tr><th>当前版本</th><td colspan="3">第 ${e(p.currentRevisionNumber)} 版</td></tr>
</tbody>
</table>`;

  const revisions = table(
    '二、版本记录',
    ['版本', '标题', '保存时间', '内容哈希（SHA-256）'],
    d.revisions.map((r) => [
      `第 ${e(r.number)} 版`,
      e(r.title),
      e(beijingTime(r.createdAt)),
      hash(r.contentHash),
    ]),
  );

  const reviews = table(
    '三、审核记录',
    ['轮次', '审级', '结论', '审核人', '时间', '审核意见', '所审版本及内容哈希'],
    d.decisions.map((x) => [
      e(x.round),
      e(LEVELS[x.level] ?? x.level),
      e(outcomeLabel(x.level, x.outcome)),
      `${e(x.reviewer)}<br><span class="small">${e(x.roles)}</span>`,
      e(beijingTime(x.createdAt)),
      x.comment ? e(x.comment) : '<span class="small">（无）</span>',
      `第 ${e(x.revisionNumber)} 版<br>${hash(x.contentHash)}${
        x.auditEventId ? `<br><span class="small">审计事件 #${e(x.auditEventId)}</span>` : ''
      }`,
    ]),
    '尚未送审',
  );

  const attestations = table(
    '四、一审自审承诺',
    ['轮次', '作者', '时间', ...ATTESTATION.map(([, label]) => label)],
    d.decisions
      .filter((x) => x.level === 1)
      .map((x) => [
        e(x.round),
        e(x.reviewer),
        e(beijingTime(x.createdAt)),
        ...ATTESTATION.map(([key]) => (x.attestation?.[key] === true ? '✔ 已承诺' : '✘ 未承诺')),
      ]),
    '尚未送审',
  );

  const publications = table(
    '五、发布记录',
    ['渠道', '平台', '状态', '链接', '发布时间', '内容哈希'],
    d.publications.map((x) => [
      e(x.channel),
      e(PLATFORMS[x.platform] ?? x.platform),
      `${e(PUBLICATION_STATUS[x.status] ?? x.status)}${
        x.lastError ? `<br><span class="small">${e(x.lastError)}</span>` : ''
      }`,
      x.url ? `<span class="url">${e(x.url)}</span>` : '—',
      e(beijingTime(x.publishedAt)),
      hash(x.contentHash),
    ]),
    '尚未发布',
  );

  return `<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title>审核登记表 · ${e(p.title)}</title>
<style>
@page { size: A4; margin: 16mm 14mm 18mm; }
* { box-sizing: border-box; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 10.5pt; color: #000; margin: 0; }
h1 { text-align: center; font-size: 18pt; letter-spacing: 0.3em; margin: 0 0 2mm; }
.sub { text-align: center; font-size: 9pt; margin: 0 0 6mm; }
table { width: 100%; border-collapse: collapse; margin: 0 0 6mm; page-break-inside: auto; }
caption { text-align: left; font-weight: bold; font-size: 11.5pt; padding: 0 0 2mm; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; break-inside: avoid; }
th, td { border: 0.6pt solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; word-break: break-word; overflow-wrap: anywhere; }
th { background: #f0f0f0; font-weight: bold; white-space: nowrap; }
table.info th { width: 18%; }
.hash { font-family: "Courier New", monospace; font-size: 7.5pt; word-break: break-all; }
.url { font-size: 8.5pt; word-break: break-all; }
.small { font-size: 8pt; color: #333; }
.empty { text-align: center; color: #555; }
footer { font-size: 8pt; border-top: 0.6pt solid #000; padding-top: 2mm; margin-top: 4mm; }
footer .hash { font-size: 8pt; }
@media screen { body { max-width: 210mm; margin: 10mm auto; padding: 0 10mm; } }
@media print { th { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
</style>
</head>
<body>
<h1>审核登记表</h1>
<p class="sub">三审制 · 先审后发 · 全程留痕</p>
${info}
${revisions}
${reviews}
${attestations}
${publications}
<footer>
<div>生成时间：${e(beijingTime(d.generatedAt))}（北京时间，表中时间均同）　生成人：${e(d.generatedBy)}</div>
<div>审计链头：事件 #${e(d.chainHead.lastEventId)}，哈希 ${hash(d.chainHead.headHash)}</div>
<div>本表由三审网关据数据库记录生成；内容哈希为审核所依据版本的 SHA-256，可经 GET /api/v1/audit/verify 核验审计链。</div>
</footer>
</body>
</html>
`;
}
