/**
 * Sensitive-term matching benchmark (not a test).
 *
 *   npm run bench:screening
 *
 * Generates, deterministically, a dictionary of BENCH_TERMS terms (Chinese 2–6 characters
 * plus some ASCII and mixed ones) and about BENCH_MB megabytes (UTF-8) of Chinese text:
 * sentences drawn from a frequency-weighted pool of common hanzi with punctuation, split
 * into article-sized documents, with dictionary terms embedded — some verbatim, some as
 * variants (noise characters inside, full-width, upper case, traditional forms).
 *
 * Then measures, in one process, for TermMatcher and for mint-filter (an Aho–Corasick
 * filter that does no normalisation; its `filter(text, { replace: false })` lists the
 * words found, which is the same job):
 *  - build time of the dictionary (ms, best of BENCH_RUNS);
 *  - matching throughput over all documents (MB/s of UTF-8 input, best of BENCH_RUNS);
 *  - hits found, and how many of the embedded variants each one finds.
 *
 * Checks that every word mint-filter reports is also among TermMatcher's hits (same
 * surface text, per document); exits 1 if not.
 *
 * Environment: BENCH_TERMS (20000), BENCH_MB (10), BENCH_RUNS (3), BENCH_SEED (20250901).
 * Prints a table, then the figures as one JSON line (the last line of stdout).
 */
import Mint from 'mint-filter';
import { TermEntry, TermMatcher } from 'src/modules/screening/matcher';
import { normalizeChar, normalizeTerm } from 'src/modules/screening/normalize';

// ---------------------------------------------------------------- configuration

const intEnv = (name: string, dflt: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

const TERMS = intEnv('BENCH_TERMS', 20_000);
const MB = intEnv('BENCH_MB', 10);
const RUNS = intEnv('BENCH_RUNS', 3);
const SEED = intEnv('BENCH_SEED', 20250901);

// ---------------------------------------------------------------- deterministic input

/** mulberry32: small, fast, good enough for test data. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];

/** Common hanzi, most frequent first (after modern-Chinese character frequency lists). */
const COMMON = [
  ...new Set(
    '的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之' +
      '年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样' +
      '理心她本前开但因只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将' +
      '两高间由问很最重并物手应战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信' +
      '表化老给世位次度门任常先海通教儿原东声提立及比员解水名真论处走义各入几口认条平系气题活尔' +
      '更别打女变四神总何电数安少报才结反受目太量再感建务做接必场件计管期市直德资命山金指克许统' +
      '区保至队形社便空决治展马科司五基眼书非则听白却界达光放强即像难且权思王象完设式色路记南品' +
      '住告类求据程北边死张该交规万取拉格望觉术领共确传师观清今切院让识候带导争运笑飞风步改收根' +
      '干造言联持组每济车亲极林服快办议往元英士证近失转夫令准布始怎呢存未远叫台单影具罗字爱击流' +
      '备兵连调深商算质团集百需价花党华城石级整府离况亚请技际约示复病息究线似官火断精满支视消越' +
      '器容照须九增研写称企八功吗包片史委乎查轻易早曾除农找装广显吧阿李标谈吃图念六引历首医局突' +
      '专费号尽另周较注语仅考落青随选列武红响虽推势参希古众构房半节土投某案黑维革划敌致陈律足态' +
      '护七兴派孩验责营星够章音跟志底站严巴例防族供效续施留讲型料终答紧黄绝奇察母京段依批群项故' +
      '按河米围江织害斗双境客纪采举杀攻父苏密低朝友诉止细愿千值仍男钱破网热助倒育属坐帝限船脸职' +
      '速刻乐否刚威毛状率甚独球般普怕弹校苦创假久错承印晚兰试股拿脑预谁益阳若哪微尼继送急血惊伤' +
      '素药适波夜省初喜卫源食险待述陆习置居劳财环排福纳欢雷警获模充负云停木游龙树疑层冷洲冲射略' +
      '范竟句室异激汉村哈策演简卡罪判担州静退既衣您宗积余痛检差富灵协角占配征修皮挥胜降阶审沉坚' +
      '善妈刘读啊超免压银买皇养伊怀执副乱抗犯追帮宣佛岁航优怪香著田铁控税左右份穿艺背阵草脚概恶' +
      '块顿敢守酒岛托央户烈洋哥索胡款靠评版宝座释景顾弟登货互付伯慢欧换闻危忙核暗姐介坏讨丽良序' +
      '升监临亮露永呼味野架域沙掉括舰鱼杂误湾吉减编楚肯测败屋跑梦散温困剑渐封救贵枪缺楼县尚毫移' +
      '娘朋画班智亦耳恩短掌恐遗固席松秘谢鲁遇康虑幸均销钟诗藏赶剧票损忽巨炮旧端探湖录叶春乡附吸' +
      '予礼港雨呀板庭妇归睛饭额含顺输摇招婚脱补谓督毒油疗旅泽材灭逐莫笔亡鲜词圣择寻厂睡博勒烟授' +
      '诺伦岸奥唐卖俄炸载洛健堂旁宫喝借君禁阴园谋宋避抓荣姑孙逃牙束跳顶玉镇雪午练迫爷篇肉嘴馆遍' +
      '凡础洞卷坦牛宁纸诸训私庄祖丝翻暴森塔默握戏隐熟骨访弱蒙歌店鬼软典欲萨伙遭盘爸扩盖弄雄稳忘' +
      '亿刺拥徒姆杨齐赛趣曲刀床迎冰虚玩析窗醒妻透购替塞努休虎扬途侵刑绿兄迅套贸毕唯谷轮库迹尤竞' +
      '街促延震弃甲伟麻川申缓潜闪售灯针哲络抵朱埃抱鼓植纯夏忍页杰筑折郑贝尊吴秀混臣雅振染盛怒舞' +
      '圆搞狂措姓残秋培迷诚宽宇猛摆梅毁伸摩盟末乃悲拍丁赵鼻学校学生老师课程考试校园社团招生毕业' +
      '宿舍食堂图书馆实验室讲座论文奖学金志愿者',
  ),
];

/** Cumulative Zipf-like weights over COMMON: character k has weight 1 / (k + 20). */
const CUMULATIVE = (() => {
  const c = new Float64Array(COMMON.length);
  let sum = 0;
  COMMON.forEach((_, k) => {
    sum += 1 / (k + 20);
    c[k] = sum;
  });
  return c.map((x) => x / sum);
})();

function commonChar(): string {
  const r = rand();
  let lo = 0;
  let hi = CUMULATIVE.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CUMULATIVE[mid] < r) lo = mid + 1;
    else hi = mid;
  }
  return COMMON[lo];
}

/** Characters for terms: flatter than running text, with a share of rarer CJK characters. */
function termChar(): string {
  const r = rand();
  if (r < 0.45) return COMMON[int(COMMON.length)];
  if (r < 0.6) return commonChar();
  return String.fromCharCode(0x4e00 + int(0x9fa5 - 0x4e00));
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const asciiWord = (min: number, max: number): string => {
  let w = '';
  const len = min + int(max - min + 1);
  for (let i = 0; i < len; i++) w += LETTERS[int(26)];
  return w;
};

function makeDictionary(): TermEntry[] {
  const seen = new Set<string>();
  const entries: TermEntry[] = [];
  const categories = ['politics', 'violence', 'porn', 'gambling', 'fraud', 'ads', 'cult'];
  while (entries.length < TERMS) {
    let term: string;
    const r = rand();
    if (r < 0.9) {
      const lengths = [2, 2, 3, 3, 3, 4, 4, 4, 5, 6];
      const len = pick(lengths);
      term = '';
      for (let i = 0; i < len; i++) term += termChar();
    } else if (r < 0.95) {
      term = asciiWord(3, 8);
      if (rand() < 0.3) term = term.toUpperCase();
      if (rand() < 0.3) term += String(int(100));
    } else {
      term =
        rand() < 0.5 ? asciiWord(2, 4) + termChar() + termChar() : termChar() + asciiWord(2, 4);
    }
    const key = normalizeTerm(term);
    // One entry per normalised key, so every hit names the entry that was embedded.
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push({
      term,
      category: pick(categories),
      level: rand() < 0.3 ? 'block' : 'warn',
    });
  }
  return entries;
}

/** Simplified → a traditional form, from the normaliser's own table. */
const TRADITIONAL = (() => {
  const map = new Map<string, string>();
  for (let cp = 0x3400; cp < 0xa000; cp++) {
    const n = normalizeChar(cp);
    if (n !== cp && n < 0x10000) {
      const s = String.fromCharCode(n);
      if (!map.has(s)) map.set(s, String.fromCharCode(cp));
    }
  }
  return map;
})();

const NOISE_INSERTS = [' ', '*', '\u200b', '·', '.', '_', '\u3000', '❤', '-', '\u2060'];
const toFullWidth = (s: string): string =>
  s.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));

type VariantKind = 'noise' | 'fullwidth' | 'upper' | 'traditional';

function variantOf(term: string): { surface: string; kind: VariantKind } | null {
  const chars = [...term];
  const ascii = /[a-z]/i.test(term);
  const kinds: VariantKind[] = ['noise', 'noise'];
  if (ascii) kinds.push('fullwidth', 'upper');
  if (chars.some((c) => TRADITIONAL.has(c))) kinds.push('traditional', 'traditional');
  const kind = pick(kinds);
  switch (kind) {
    case 'noise': {
      if (chars.length < 2) return null;
      const at = 1 + int(chars.length - 1);
      const noise = pick(NOISE_INSERTS).repeat(1 + int(2));
      return { surface: chars.slice(0, at).join('') + noise + chars.slice(at).join(''), kind };
    }
    case 'fullwidth':
      return { surface: toFullWidth(term), kind };
    case 'upper':
      return {
        surface: term.toUpperCase() === term ? term.toLowerCase() : term.toUpperCase(),
        kind,
      };
    case 'traditional':
      return { surface: chars.map((c) => TRADITIONAL.get(c) ?? c).join(''), kind };
  }
}

interface Embedded {
  start: number;
  end: number;
  term: string;
  surface: string;
  kind: VariantKind;
}

interface Corpus {
  docs: string[];
  variants: Embedded[][];
  bytes: number;
  chars: number;
  embedded: number;
}

function makeCorpus(entries: TermEntry[]): Corpus {
  const target = MB * 1e6;
  const docs: string[] = [];
  const variants: Embedded[][] = [];
  let bytes = 0;
  let chars = 0;
  let embedded = 0;
  const clause = [',', '，', '，', '，', '、', '；', '：'];
  const endings = ['。', '。', '。', '！', '？', '…'];
  while (bytes < target) {
    const docLen = 1500 + int(4500);
    let doc = '';
    const docVariants: Embedded[] = [];
    while (doc.length < docLen) {
      // A sentence of a few clauses; now and then an embedded term, a number or a quote.
      const clauses = 1 + int(4);
      for (let c = 0; c < clauses; c++) {
        const len = 4 + int(14);
        for (let i = 0; i < len; i++) {
          if (rand() < 0.004) {
            const e = entries[int(entries.length)];
            embedded++;
            const v = rand() < 0.3 ? variantOf(e.term) : null;
            if (v) {
              docVariants.push({
                start: doc.length,
                end: doc.length + v.surface.length,
                term: e.term,
                surface: v.surface,
                kind: v.kind,
              });
              doc += v.surface;
            } else {
              doc += e.term;
            }
          } else if (rand() < 0.01) {
            doc += String(int(3000));
          } else {
            doc += commonChar();
          }
        }
        doc += c === clauses - 1 ? pick(endings) : pick(clause);
      }
      if (rand() < 0.08) doc += '\n\n';
    }
    docs.push(doc);
    variants.push(docVariants);
    bytes += Buffer.byteLength(doc, 'utf8');
    chars += doc.length;
  }
  return { docs, variants, bytes, chars, embedded };
}

// ---------------------------------------------------------------- measurement

interface Timed<T> {
  bestMs: number;
  runsMs: number[];
  result: T;
}

function best<T>(fn: () => T): Timed<T> {
  const runsMs: number[] = [];
  let result!: T;
  for (let r = 0; r < RUNS; r++) {
    const started = performance.now();
    result = fn();
    runsMs.push(performance.now() - started);
  }
  return { bestMs: Math.min(...runsMs), runsMs, result };
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

function main(): void {
  const t0 = performance.now();
  const entries = makeDictionary();
  const words = entries.map((e) => e.term);
  const corpus = makeCorpus(entries);
  const genMs = performance.now() - t0;
  const variantCount = corpus.variants.reduce((n, v) => n + v.length, 0);
  console.log(
    `dictionary: ${entries.length} terms; text: ${corpus.docs.length} documents, ` +
      `${corpus.chars} chars, ${(corpus.bytes / 1e6).toFixed(2)} MB UTF-8, ` +
      `${corpus.embedded} terms embedded (${variantCount} as variants); generated in ${round(genMs)} ms`,
  );

  const oursBuild = best(() => TermMatcher.build(entries));
  const mintBuild = best(() => new Mint(words));
  const matcher = oursBuild.result;
  const mint = mintBuild.result;
  console.log(`TermMatcher: ${JSON.stringify(matcher.stats)}`);

  const oursMatch = best(() => {
    let hits = 0;
    for (const doc of corpus.docs) hits += matcher.match(doc).length;
    return hits;
  });
  const mintMatch = best(() => {
    let hits = 0;
    for (const doc of corpus.docs) hits += mint.filter(doc, { replace: false }).words.length;
    return hits;
  });

  // Untimed: cross-check and variant coverage.
  let missing = 0;
  let firstMissing = '';
  const found = { ours: 0, mint: 0 };
  const byKind: Record<string, { n: number; ours: number; mint: number }> = {};
  corpus.docs.forEach((doc, d) => {
    const hits = matcher.match(doc);
    const surfaces = new Map<string, number>();
    for (const h of hits) {
      const s = doc.slice(h.start, h.end);
      surfaces.set(s, (surfaces.get(s) ?? 0) + 1);
    }
    const mintWords = mint.filter(doc, { replace: false }).words;
    for (const w of mintWords) {
      const left = surfaces.get(w) ?? 0;
      if (left === 0) {
        missing++;
        firstMissing ||= `doc ${d}: "${w}"`;
      } else surfaces.set(w, left - 1);
    }
    const mintSet = new Set(mintWords);
    for (const v of corpus.variants[d]) {
      const k = (byKind[v.kind] ??= { n: 0, ours: 0, mint: 0 });
      k.n++;
      if (hits.some((h) => h.start === v.start && h.end === v.end && h.term === v.term)) {
        found.ours++;
        k.ours++;
      }
      if (mintSet.has(v.surface)) {
        found.mint++;
        k.mint++;
      }
    }
  });

  const mbps = (ms: number): number => corpus.bytes / 1e6 / (ms / 1000);
  const rows = [
    {
      name: 'TermMatcher',
      build: oursBuild,
      match: oursMatch,
      variants: found.ours,
    },
    { name: 'mint-filter', build: mintBuild, match: mintMatch, variants: found.mint },
  ];
  const pad = (s: string | number, w: number): string => String(s).padStart(w);
  console.log('');
  console.log(
    `${'matcher'.padEnd(12)}${pad('build ms', 10)}${pad('match ms', 10)}${pad('MB/s', 9)}` +
      `${pad('hits', 10)}${pad('variants', 12)}   runs (match ms)`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(12)}${pad(r.build.bestMs.toFixed(1), 10)}${pad(r.match.bestMs.toFixed(0), 10)}` +
        `${pad(mbps(r.match.bestMs).toFixed(1), 9)}${pad(r.match.result, 10)}` +
        `${pad(`${r.variants}/${variantCount}`, 12)}   ${r.match.runsMs.map((x) => x.toFixed(0)).join(' ')}`,
    );
  }
  const ratio = mbps(oursMatch.bestMs) / mbps(mintMatch.bestMs);
  const buildRatio = mintBuild.bestMs / oursBuild.bestMs;
  console.log('');
  console.log(
    `throughput ratio ours/mint: ${ratio.toFixed(2)}x (build: ${buildRatio.toFixed(2)}x)`,
  );
  console.log(
    'embedded variants found (ours / mint of n): ' +
      Object.entries(byKind)
        .map(([k, v]) => `${k} ${v.ours}/${v.mint} of ${v.n}`)
        .join(', '),
  );
  console.log(
    missing === 0
      ? 'cross-check: every mint-filter word is among TermMatcher hits'
      : `cross-check FAILED: ${missing} mint-filter words not found by TermMatcher (first: ${firstMissing})`,
  );
  console.log(`total ${round((performance.now() - t0) / 1000)} s`);

  const json = {
    bench: 'screening',
    node: process.version,
    terms: entries.length,
    documents: corpus.docs.length,
    inputMB: round(corpus.bytes / 1e6, 2),
    runs: RUNS,
    ours: {
      buildMs: round(oursBuild.bestMs),
      matchMs: round(oursMatch.bestMs),
      mbPerSec: round(mbps(oursMatch.bestMs)),
      hits: oursMatch.result,
      variantsFound: found.ours,
      stats: matcher.stats,
    },
    mint: {
      buildMs: round(mintBuild.bestMs),
      matchMs: round(mintMatch.bestMs),
      mbPerSec: round(mbps(mintMatch.bestMs)),
      hits: mintMatch.result,
      variantsFound: found.mint,
    },
    variants: variantCount,
    variantsByKind: byKind,
    ratio: round(ratio, 2),
    crossCheckMissing: missing,
  };
  console.log(JSON.stringify(json));
  if (missing > 0) process.exitCode = 1;
}

main();
