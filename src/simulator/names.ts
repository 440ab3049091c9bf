// Word tables for plausible Chinese company, group and chain names. Realistic text matters: the
// crawler and the database must cope with CJK, full-width brackets and long names, not 'corp-17'.
import type { Rng } from './random.ts';

function words(text: string): readonly string[] {
  return text.trim().split(/\s+/);
}

const CITIES = words(`
  上海 北京 广州 深圳 杭州 南京 苏州 成都 武汉 西安 重庆 天津 长沙 郑州 济南 青岛 厦门 福州 合肥
  昆明 宁波 无锡 佛山 东莞 沈阳 大连 哈尔滨 长春 石家庄 太原 南昌 南宁 贵阳 兰州 乌鲁木齐 呼和浩特
  海口 温州 泉州 常州 嘉兴 绍兴 金华 徐州 烟台 潍坊 洛阳 襄阳 宜昌 珠海
`);

const SYLLABLES = words(`
  美 馨 华 鑫 盛 达 恒 泰 瑞 丰 源 德 信 宏 利 嘉 禾 安 康 顺 隆 兴 福 祥 金 创 远 优 佳 新 诚 和
  益 汇 通 海 天 宇 星 辰 晨 晟 博 聚 润 凯 腾 昌 裕 明 光 中 国 联 合 众 立 本 正 永 长 万 家 乐
  欣 悦 峰 翔
`);

const INDUSTRIES = words(`
  粮油 食品 商贸 贸易 科技 物流 电子 医药 建材 机械 服饰 酒业 乳业 饮料 农业 化工 五金 家居 电器
  文具 日化 包装 汽配 供应链管理 信息技术 网络科技 餐饮管理 生物科技 新材料 实业 冷链物流 母婴用品
  酒店用品 农产品
`);

const SHOP_KINDS = words('商行 经营部 批发部 便利店 超市 食品店 贸易商行');
// Repeated on purpose: most Chinese companies are plain 有限公司.
const COMPANY_KINDS = words('有限公司 有限公司 有限公司 有限责任公司 股份有限公司');

const CHAIN_NAMES = words(`
  能源供应链 原材料供应链 华东经销网络 快消品分销体系 冷链物流合作伙伴 全国渠道商 连锁门店网络
  战略供应商 售后服务网络 海外代理商 电商分销伙伴 餐饮客户
`);

// One table per depth below the root: channel type, region, province, city/district, (teams), tier.
const GROUP_LEVELS: readonly (readonly string[])[] = [
  words('一级经销商 二级经销商 直营门店 加盟商 供应商 物流服务商 战略合作伙伴 代理商 分销商 终端门店'),
  words('华东 华南 华北 华中 西南 西北 东北 港澳台 海外'),
  words(`
  上海 江苏 浙江 安徽 福建 江西 山东 广东 广西 海南 北京 天津 河北 山西 内蒙古 河南 湖北
  湖南 重庆 四川 贵州 云南 陕西 甘肃 青海 宁夏 新疆 辽宁 吉林 黑龙江
`),
  words(`
  浦东新区 徐汇区 静安区 闵行区 杭州 宁波 温州 南京 苏州 无锡 广州 深圳 佛山 东莞 成都
  绵阳 武汉 宜昌 长沙 株洲 郑州 洛阳 济南 青岛 西安 城东片区 城西片区 城南片区 城北片区
`),
  [], // teams: generated, see teamName
  words('重点客户 普通客户 新客户 待激活 已流失 VIP客户 战略客户 观察名单'),
];
const TEAM_PREFIXES = words('销售 渠道 运营 服务 拓展');

const USERIDS = words(`
  zhangsan lisi wangwu zhaoliu sunqi zhouba wujiu zhengshi liuyang chenjing yangfan huangwei
  zhaolei wuxia xuming sunli hujun guoqiang heping gaofeng linfeng luotao liangchen songjie tangyu
  hanmei fengxue dengchao caoyu pengfei zengli xiaoming tianyu yuanhao panyue jiangtao caixin
  yuqing ZhangWei LiNa wangfang01 liqiang02 chen.jie zhou_min
`);

const DIGITS = ['', '一', '二', '三', '四', '五', '六', '七', '八', '九'] as const;

/** 1..99 as Chinese numerals (十二, 二十, 九十九); larger numbers as digits. */
function chineseNumber(n: number): string {
  if (n < 1 || n > 99) return String(n);
  if (n < 10) return DIGITS[n]!;
  const tens = Math.floor(n / 10);
  return `${tens === 1 ? '' : DIGITS[tens]}十${DIGITS[n % 10]}`;
}

export function corpName(rng: Rng): string {
  const city = rng.pick(CITIES);
  const brand = brandName(rng);
  const industry = rng.pick(INDUSTRIES);
  const r = rng.next();
  if (r < 0.6) return `${city}${brand}${industry}${rng.pick(COMPANY_KINDS)}`;
  if (r < 0.72) return `${brand}${industry}（${city}）有限公司`;
  if (r < 0.82) return `${city}市${brand}${rng.pick(SHOP_KINDS)}`;
  if (r < 0.92) return `${rng.pick(CITIES)}${brand}${industry}有限公司${city}分公司`;
  return `${brand}${industry}集团有限公司`;
}

function brandName(rng: Rng): string {
  const a = rng.int(SYLLABLES.length);
  // A different second syllable: 美美 reads as a typo, not a brand.
  const b = (a + 1 + rng.int(SYLLABLES.length - 1)) % SYLLABLES.length;
  return SYLLABLES[a]! + SYLLABLES[b]!;
}

export function chainName(index: number): string {
  const base = CHAIN_NAMES[index % CHAIN_NAMES.length]!;
  const round = Math.floor(index / CHAIN_NAMES.length);
  return round === 0 ? base : `${base}${round + 1}`;
}

/**
 * The name of the k-th child (0-based) at `depth` (1 = top level). `offset` rotates the table per
 * parent so siblings differ from cousins; names stay unique among siblings.
 */
export function groupName(depth: number, k: number, offset: number): string {
  if (depth === 5) return teamName(k, offset);
  const table = GROUP_LEVELS[Math.min(depth, GROUP_LEVELS.length) - 1]!;
  const base = table[(offset + k) % table.length]!;
  const round = Math.floor(k / table.length);
  return round === 0 ? base : `${base}${round + 1}`;
}

function teamName(k: number, offset: number): string {
  return `${TEAM_PREFIXES[offset % TEAM_PREFIXES.length]}${chineseNumber(k + 1)}组`;
}

/** A chain's inviters: a handful of staff invite most corps, as in a real sales team. */
export function inviterPool(rng: Rng): string[] {
  const size = 3 + rng.int(10);
  const start = rng.int(USERIDS.length);
  return Array.from({ length: size }, (_, i) => USERIDS[(start + i * 7) % USERIDS.length]!);
}

export type CustomIdStyle = (n: number) => string;

/** Each chain numbers its corps in one house style, as an importer's spreadsheet would. */
export function customIdStyle(rng: Rng): CustomIdStyle {
  const styles: CustomIdStyle[] = [
    (n) => `KH${String(n).padStart(7, '0')}`,
    (n) => `DL-${2018 + (n % 7)}-${String(n).padStart(5, '0')}`,
    (n) => String(100000 + n),
    (n) => `供应商编码-${n}`,
  ];
  return rng.pick(styles);
}
