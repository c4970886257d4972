// Two languages, Chinese first. `en` is typed against `zh`, so a missing key is a compile error,
// and tests/i18n.test.ts checks that no value is empty. Names of parameters come from the API
// (name_zh/name_en from the catalogue), so the standard names live in one place.

export type Lang = 'zh' | 'en';

export const zh = {
  app_title: '水质实时监测平台',
  nav_overview: '总览',
  nav_station: '站点',
  nav_assessment: '水质评价',
  nav_alerts: '告警与视频',
  lang_switch: 'English',
  lang_switch_title: '切换到英文',
  live_connected: '实时',
  live_reconnecting: '重连中…',
  loading: '加载中…',
  load_failed: '加载失败',
  retry: '重试',
  schematic_note: '示意位置，非实测坐标',
  stations_reporting: '在线站点',
  share_meeting_target: '达标率',
  lake_class: '湖体水质',
  tli: '综合营养状态指数 TLI(Σ)',
  active_alerts: '未处理告警',
  video_online: '视频在线',
  legend_title: '水质类别',
  intake_target: '目标Ⅱ类',
  meets_target: '达标',
  fails_target: '未达标',
  target_unknown: '无法判定',
  target: '目标',
  station: '站点',
  stations: '站点',
  station_list: '站点列表',
  kind_river: '河流',
  kind_lake: '湖库点位',
  kind_intake: '饮用水取水口',
  online: '在线',
  offline: '离线',
  not_reporting: '不经HJ 212上报',
  last_seen: '最近数据',
  parameter: '监测指标',
  value: '监测值',
  unit: '单位',
  time: '时间',
  class: '类别',
  flag: '数据标记',
  latest_values: '最新数据',
  range_day: '日',
  range_week: '周',
  range_month: '月',
  range_year: '年',
  export_csv: '导出CSV',
  export_xlsx: '导出Excel',
  no_data: '无数据',
  valid_values: '有效值',
  flagged_values: '标记值（无效）',
  bucket_avg: '均值',
  bucket_range: '最小–最大',
  bucket_n: '样本数',
  bucket_flagged: '标记值个数',
  aggregated_every: '聚合间隔',
  raw_values: '原始数据',
  choose_station: '请选择站点',
  period_month: '月',
  period_quarter: '季度',
  period_year: '年',
  period: '评价时段',
  scope_lake: '红枫湖（全湖）',
  scope_rivers: '出入湖河流',
  scope_intake: '饮用水取水口',
  grade: '水质状况',
  main_pollutants: '主要污染指标',
  none: '无',
  limiting: '定类指标',
  exceedance_multiple: '超标倍数',
  compared_limit: '比较限值',
  counts: '有效/总数',
  reference_lines: '单独评价项目（不参与定类）',
  other_parameters: '其他参数（不定类）',
  why: '评价依据',
  method: '评价方法',
  method_single_station: '单站评价',
  method_mean_of_sections: '断面均值法（少于5个断面）',
  method_proportion_method: '断面水质类别比例法',
  method_mean_of_points: '点位均值法（先时间后空间）',
  method_pooled_points: '点位合并均值法',
  share_good: 'Ⅰ–Ⅲ类比例',
  share_worse_than_v: '劣Ⅴ类比例',
  sections: '断面数',
  partial: '核心指标不全',
  missing_items: '缺测指标',
  exceeding_items: '超过目标的指标',
  tli_components: '分项指数',
  tli_weight: '权重',
  tli_not_computed: '未计算',
  per_station: '各点位评价',
  combined_means: '均值定类',
  basin: '湖区',
  alerts: '告警',
  alerts_none: '当前无告警',
  severity: '级别',
  severity_critical: '紧急',
  severity_major: '重要',
  severity_minor: '次要',
  severity_warning: '提示',
  state: '状态',
  state_active: '未确认',
  state_acknowledged: '已确认',
  state_cleared: '已解除',
  rule: '规则',
  rule_exceedance: '超标',
  rule_trend: '趋势预警',
  rule_sensor_fault: '仪器/质控异常',
  rule_offline: '数据中断',
  rule_bloom: '藻类水华',
  rule_intrusion: '视频入侵',
  rule_video_fault: '视频故障',
  rule_camera_offline: '摄像机离线',
  rule_bloom_area: '遥感水华面积',
  rule_credential_guessing: '疑似密码猜测',
  acknowledge: '确认',
  clear: '解除',
  message: '内容',
  filter_all: '全部',
  video_points: '视频监控点',
  camera_ptz: '球机',
  camera_fixed: '枪机',
  zone: '监控区域',
  status_unknown: '状态未知',
  last_keepalive: '最近心跳',
  clock_drift: '时钟偏差',
  firmware: '型号/固件',
  new_alert: '新告警',
  more_new_alerts: '条新告警未显示，点击查看全部',
  action_failed: '操作失败',
  updated_at: '更新于',
  flag_N: '正常',
  flag_F: '停运',
  flag_M: '维护',
  flag_S: '手工输入',
  flag_D: '故障',
  flag_C: '校准',
  flag_T: '超测量上限',
  flag_B: '通讯异常',
  flag_other: '未定义标记',
  zone_lake_outline: '湖区水面',
  zone_protection_level1: '一级保护区',
  zone_protection_level2: '二级保护区',
  zone_shore_watch: '岸线管控区',
  beijing_time: '北京时间',
  scenes: '卫星/无人机影像',
  scene_none: '无影像',
  bloom_area: '水华面积',
  cloud_limited: '云量受限',
  valid_fraction: '有效像元',
  scene_figures: '影像指标与站点叶绿素a',
  coverage: '水华覆盖率',
  bloom_grade: '水华等级',
  chl_scene: '影像叶绿素a估算',
  chl_station: '站点实测叶绿素a',
  chl_fit: 'NDCI 标定',
  chl_fit_none: '同日站点实测不足3个，未标定叶绿素a',
} as const;

export type Key = keyof typeof zh;

export const en: Record<Key, string> = {
  app_title: 'Real-time water-quality monitoring',
  nav_overview: 'Overview',
  nav_station: 'Station',
  nav_assessment: 'Assessment',
  nav_alerts: 'Alerts & video',
  lang_switch: '中文',
  lang_switch_title: 'Switch to Chinese',
  live_connected: 'Live',
  live_reconnecting: 'Reconnecting…',
  loading: 'Loading…',
  load_failed: 'Could not load',
  retry: 'Retry',
  schematic_note: 'Schematic positions, not surveyed',
  stations_reporting: 'Stations reporting',
  share_meeting_target: 'Meeting target',
  lake_class: 'Lake water quality',
  tli: 'Trophic level index TLI(Σ)',
  active_alerts: 'Active alerts',
  video_online: 'Cameras online',
  legend_title: 'Water class',
  intake_target: 'target Class II',
  meets_target: 'meets target',
  fails_target: 'misses target',
  target_unknown: 'cannot judge',
  target: 'Target',
  station: 'Station',
  stations: 'Stations',
  station_list: 'Stations',
  kind_river: 'River',
  kind_lake: 'Lake point',
  kind_intake: 'Drinking-water intake',
  online: 'online',
  offline: 'offline',
  not_reporting: 'not on HJ 212',
  last_seen: 'Last data',
  parameter: 'Parameter',
  value: 'Value',
  unit: 'Unit',
  time: 'Time',
  class: 'Class',
  flag: 'Data flag',
  latest_values: 'Latest values',
  range_day: 'Day',
  range_week: 'Week',
  range_month: 'Month',
  range_year: 'Year',
  export_csv: 'Export CSV',
  export_xlsx: 'Export Excel',
  no_data: 'No data',
  valid_values: 'Valid values',
  flagged_values: 'Flagged values (invalid)',
  bucket_avg: 'Mean',
  bucket_range: 'Min–max',
  bucket_n: 'Samples',
  bucket_flagged: 'Flagged samples',
  aggregated_every: 'Aggregated every',
  raw_values: 'Raw values',
  choose_station: 'Choose a station',
  period_month: 'Month',
  period_quarter: 'Quarter',
  period_year: 'Year',
  period: 'Period',
  scope_lake: 'Hongfeng Lake (whole lake)',
  scope_rivers: 'Inflow and outflow rivers',
  scope_intake: 'Drinking-water intake',
  grade: 'Water quality',
  main_pollutants: 'Main pollutants',
  none: 'none',
  limiting: 'Limiting parameters',
  exceedance_multiple: 'Exceedance multiple',
  compared_limit: 'Limit compared',
  counts: 'Valid/total',
  reference_lines: 'Evaluated separately (not in the class)',
  other_parameters: 'Other parameters (not classed)',
  why: 'Why',
  method: 'Method',
  method_single_station: 'Single station',
  method_mean_of_sections: 'Mean of sections (fewer than 5)',
  method_proportion_method: 'Section-class proportion method',
  method_mean_of_points: 'Mean of points (time, then space)',
  method_pooled_points: 'Pooled points mean',
  share_good: 'Share in Class I–III',
  share_worse_than_v: 'Share worse than V',
  sections: 'Sections',
  partial: 'Core items missing',
  missing_items: 'Missing items',
  exceeding_items: 'Items above target',
  tli_components: 'Components',
  tli_weight: 'Weight',
  tli_not_computed: 'Not computed',
  per_station: 'Per point',
  combined_means: 'Class of the means',
  basin: 'Basin',
  alerts: 'Alerts',
  alerts_none: 'No alerts',
  severity: 'Severity',
  severity_critical: 'Critical',
  severity_major: 'Major',
  severity_minor: 'Minor',
  severity_warning: 'Warning',
  state: 'State',
  state_active: 'Active',
  state_acknowledged: 'Acknowledged',
  state_cleared: 'Cleared',
  rule: 'Rule',
  rule_exceedance: 'Exceedance',
  rule_trend: 'Trend',
  rule_sensor_fault: 'Instrument/QC fault',
  rule_offline: 'Data gap',
  rule_bloom: 'Algal bloom',
  rule_intrusion: 'Video intrusion',
  rule_video_fault: 'Video fault',
  rule_camera_offline: 'Camera offline',
  rule_bloom_area: 'Bloom area (imagery)',
  rule_credential_guessing: 'Possible password guessing',
  acknowledge: 'Acknowledge',
  clear: 'Clear',
  message: 'Message',
  filter_all: 'All',
  video_points: 'Video points',
  camera_ptz: 'PTZ dome',
  camera_fixed: 'Fixed',
  zone: 'Zone',
  status_unknown: 'status unknown',
  last_keepalive: 'Last keepalive',
  clock_drift: 'Clock drift',
  firmware: 'Model/firmware',
  new_alert: 'New alert',
  more_new_alerts: 'more new alerts not shown; click to see all',
  action_failed: 'Action failed',
  updated_at: 'Updated',
  flag_N: 'normal',
  flag_F: 'instrument stopped',
  flag_M: 'maintenance',
  flag_S: 'manual set value',
  flag_D: 'instrument fault',
  flag_C: 'calibration',
  flag_T: 'above measuring range',
  flag_B: 'communication fault',
  flag_other: 'undefined flag',
  zone_lake_outline: 'Lake surface',
  zone_protection_level1: 'First-level protection zone',
  zone_protection_level2: 'Second-level protection zone',
  zone_shore_watch: 'Shore watch area',
  beijing_time: 'Beijing time',
  scenes: 'Satellite/drone scenes',
  scene_none: 'no scene',
  bloom_area: 'bloom area',
  cloud_limited: 'cloud-limited',
  valid_fraction: 'valid',
  scene_figures: 'Scene figures and station chl-a',
  coverage: 'bloom coverage',
  bloom_grade: 'bloom grade',
  chl_scene: 'chl-a from the scene',
  chl_station: 'chl-a measured at the station',
  chl_fit: 'NDCI calibration',
  chl_fit_none: 'fewer than 3 same-day station chl-a values: no chl-a calibration',
};

export const DICTS: Record<Lang, Record<Key, string>> = { zh, en };

const STORAGE_KEY = 'qingshui.lang';

/** Chinese when the browser prefers it (any zh-* ahead of the first en-*), English otherwise. */
export function detectLang(languages: readonly string[], stored: string | null): Lang {
  if (stored === 'zh' || stored === 'en') return stored;
  for (const l of languages) {
    const p = l.toLowerCase();
    if (p.startsWith('zh')) return 'zh';
    if (p.startsWith('en')) return 'en';
  }
  return 'en';
}

let current: Lang = 'zh';
const listeners = new Set<() => void>();

export function initLang(): Lang {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    /* storage disabled: follow the browser */
  }
  current = detectLang(navigator.languages?.length ? navigator.languages : [navigator.language], stored);
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  return current;
}

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    /* ignore */
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  listeners.forEach((f) => f());
}

export function onLangChange(f: () => void): void {
  listeners.add(f);
}

export function t(key: Key, l: Lang = current): string {
  return DICTS[l][key];
}

/** The name of a thing that carries `name_zh`/`name_en`, in the current language. */
export function nameOf(x: { name_zh: string; name_en: string } | undefined, l: Lang = current): string {
  if (!x) return '';
  return l === 'zh' ? x.name_zh || x.name_en : x.name_en || x.name_zh;
}

/** HJ 212 data flag meaning (water-quality.md §13.3). */
export function flagLabel(flag: string | null | undefined, l: Lang = current): string {
  if (!flag) return '';
  const key = `flag_${flag}` as Key;
  return key in zh ? t(key, l) : t('flag_other', l);
}
