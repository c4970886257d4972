//! Reads on the large table, each as median and p95 over HTTP against one node or alternately
//! against two, and the raw SQL that produces the same rows, run with the `postgres` crate on
//! the same schema in the same run. The request shapes are sta_bench's, so the figures compare
//! with the SQLite ones.

use crate::common::{FIVE_MIN, Node, Stat, T0, get, time_async, time_sync, value};
use serde_json::Value;

/// The HTTP reads, in the order of the table.
#[derive(Clone, Copy, PartialEq)]
pub enum Read {
    CountAll,
    CountTop1,
    CountDatastream,
    CountFiltered,
    LatestApi,
    LatestSta,
    Series,
    SeriesDataArray,
}

pub const READS: [Read; 8] = [
    Read::CountAll,
    Read::CountTop1,
    Read::CountDatastream,
    Read::CountFiltered,
    Read::LatestApi,
    Read::LatestSta,
    Read::Series,
    Read::SeriesDataArray,
];

/// The 30-day window of the series (as sta_bench: from day 2, 30 days).
pub fn series_window() -> (i64, i64) {
    let from = T0 + 2 * 86_400_000_000;
    (from, from + 30 * 86_400_000_000)
}

fn series_query() -> String {
    let (from, to) = series_window();
    format!(
        "$filter=phenomenonTime%20ge%20{}%20and%20phenomenonTime%20lt%20{}&$orderby=phenomenonTime&$top=10000&$select=phenomenonTime,result",
        sta::time::format_instant(from),
        sta::time::format_instant(to)
    )
}

impl Read {
    pub fn url(self, node: &Node) -> String {
        let (sta, api) = (node.sta(), node.api());
        match self {
            Read::CountAll => format!("{sta}/Observations?$count=true&$top=0"),
            Read::CountTop1 => format!("{sta}/Observations?$count=true&$top=1"),
            Read::CountDatastream => {
                format!("{sta}/Datastreams(7)/Observations?$count=true&$top=0")
            }
            Read::CountFiltered => {
                format!("{sta}/Observations?$filter=result%20gt%2099.5&$count=true&$top=0")
            }
            Read::LatestApi => format!("{api}/latest"),
            Read::LatestSta => format!(
                "{sta}/Datastreams?$top=10000&$select=id,name&$expand=Observations($top=1;$orderby=phenomenonTime%20desc;$select=phenomenonTime,result)"
            ),
            Read::Series => format!("{sta}/Datastreams(7)/Observations?{}", series_query()),
            Read::SeriesDataArray => format!(
                "{sta}/Datastreams(7)/Observations?{}&$resultFormat=dataArray",
                series_query()
            ),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Read::CountAll => "`Observations?$count=true&$top=0`",
            Read::CountTop1 => "`Observations?$count=true&$top=1`",
            Read::CountDatastream => "`Datastreams(7)/Observations?$count=true&$top=0`",
            Read::CountFiltered => "`Observations?$filter=result gt 99.5&$count=true&$top=0`",
            Read::LatestApi => "`/api/v1/latest` (latest value of every datastream)",
            Read::LatestSta => {
                "`Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)`"
            }
            Read::Series => "30-day series of one datastream, `$select=phenomenonTime,result`",
            Read::SeriesDataArray => "the same, `$resultFormat=dataArray`",
        }
    }

    /// A filtered count is a scan of every row: fewer runs.
    fn runs(self, runs: usize) -> usize {
        if self == Read::CountFiltered {
            runs.min(5)
        } else {
            runs
        }
    }
}

/// What the large table holds, to check every answer against.
#[derive(Clone, Copy)]
pub struct Expect {
    pub datastreams: i64,
    pub per_ds: i64,
    pub series_rows: usize,
}

/// The answer's content with the node's address removed, so two nodes' answers compare.
fn content(body: &[u8], node: &Node) -> anyhow::Result<Value> {
    let text = String::from_utf8_lossy(body).replace(&node.running.http_addr.to_string(), "NODE");
    Ok(serde_json::from_str(&text)?)
}

/// Checks one node's answers (counts, the latest value, the series length) and returns them.
async fn check(client: &reqwest::Client, node: &Node, e: &Expect) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for r in READS {
        let v = content(&get(client, &r.url(node)).await?, node)?;
        match r {
            Read::CountAll | Read::CountTop1 => anyhow::ensure!(
                v["@iot.count"].as_i64() == Some(e.datastreams * e.per_ds),
                "{}: @iot.count {} instead of {}",
                r.label(),
                v["@iot.count"],
                e.datastreams * e.per_ds
            ),
            Read::CountDatastream => anyhow::ensure!(
                v["@iot.count"].as_i64() == Some(e.per_ds),
                "Datastreams(7) counts {}",
                v["@iot.count"]
            ),
            Read::LatestApi => {
                let all = v["value"].as_array().map_or(0, Vec::len);
                anyhow::ensure!(all as i64 == e.datastreams, "latest: {all} datastreams");
                let seven = v["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|l| l["datastream_id"] == 7)
                    .map(|l| l["result"].clone());
                anyhow::ensure!(
                    seven.as_ref().and_then(Value::as_f64) == Some(value(7, e.per_ds - 1)),
                    "latest of Datastream(7) is {seven:?}, not its last row"
                );
            }
            Read::LatestSta => {
                let with_one = v["value"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|d| d["Observations"].as_array().map_or(0, Vec::len) == 1)
                    .count();
                anyhow::ensure!(
                    with_one as i64 == e.datastreams,
                    "$expand latest: {with_one} datastreams with one observation"
                );
            }
            Read::Series => {
                let n = v["value"].as_array().map_or(0, Vec::len);
                anyhow::ensure!(n == e.series_rows, "series: {n} rows, {}", e.series_rows);
            }
            Read::CountFiltered | Read::SeriesDataArray => {}
        }
        out.push(v);
    }
    Ok(out)
}

/// Every read over HTTP, request k to node `k % nodes.len()`; first checks each node's answers
/// and that all nodes answer the same.
pub async fn http(
    client: &reqwest::Client,
    nodes: &[&Node],
    e: &Expect,
    runs: usize,
) -> anyhow::Result<Vec<Stat>> {
    let mut first: Option<Vec<Value>> = None;
    for node in nodes {
        let answers = check(client, node, e).await?;
        if let Some(f) = &first {
            for ((a, b), r) in f.iter().zip(&answers).zip(READS) {
                anyhow::ensure!(a == b, "{}: the nodes answer differently", r.label());
            }
        } else {
            first = Some(answers);
        }
    }
    let mut out = Vec::new();
    for r in READS {
        let urls: Vec<String> = nodes.iter().map(|n| r.url(n)).collect();
        let stat = time_async(r.runs(runs), |k| {
            let (client, url) = (client.clone(), urls[k % urls.len()].clone());
            async move { get(&client, &url).await.map(drop) }
        })
        .await?;
        out.push(stat);
    }
    Ok(out)
}

/// The series inside the process (`Store::read_rendered`, no HTTP) on one node's store.
pub async fn series_in_store(node: &Node, runs: usize) -> anyhow::Result<Stat> {
    let query = series_query();
    let render = store::render::Render {
        service_root: node.sta(),
        hidden: Some("mn".into()),
        max_bytes: node.config.http.max_response_bytes,
    };
    time_async(runs, |_| {
        let (store, render) = (node.store.clone(), render.clone());
        let query = query.clone();
        async move {
            let path = sta::parse_path("Datastreams(7)/Observations")?;
            let query = sta::Query::parse(path.target(), &query)?;
            let body = store
                .read_rendered(store::ReadRequest { path, query }, render)
                .await?;
            anyhow::ensure!(matches!(body, store::render::ReadBody::Json(_)));
            Ok(())
        }
    })
    .await
}

/// The raw SQL of the same reads, on a connection of its own.
pub struct Raw {
    pub count_all: Stat,
    pub count_maintained: Stat,
    pub count_datastream: Stat,
    pub count_filtered: Stat,
    pub latest: Stat,
    pub latest_naive: Stat,
    pub series: Stat,
}

/// Runs the raw SQL (blocking).
pub fn raw(url: &str, e: &Expect, runs: usize) -> anyhow::Result<Raw> {
    let mut c = store_postgres::connect(url)?;
    let mut count = |sql: &str, n: usize, want: i64| {
        let stmt = c.prepare(sql)?;
        time_sync(n, || {
            let got: i64 = c.query_one(&stmt, &[])?.get(0);
            anyhow::ensure!(want < 0 || got == want, "{sql}: {got}, not {want}");
            Ok(())
        })
    };
    let total = e.datastreams * e.per_ds;
    let count_all = count("SELECT COUNT(*) FROM observations", 5, total)?;
    let count_maintained = count(
        "SELECT SUM(observation_count)::BIGINT FROM datastreams",
        runs,
        total,
    )?;
    let count_datastream = count(
        "SELECT COUNT(*) FROM observations WHERE datastream_id = 7",
        runs,
        e.per_ds,
    )?;
    let count_filtered = count(
        "SELECT COUNT(*) FROM observations WHERE result > 99.5",
        5,
        -1,
    )?;
    let latest_sql = c.prepare(
        "SELECT d.id, o.phenomenon_time_start, o.result FROM datastreams d
         JOIN observations o ON o.datastream_id = d.id AND o.phenomenon_time_start = d.latest_phenomenon_time",
    )?;
    let latest = time_sync(runs, || {
        let n = c.query(&latest_sql, &[])?.len();
        anyhow::ensure!(n as i64 == e.datastreams, "latest join: {n} rows");
        Ok(())
    })?;
    let naive_sql = c.prepare(
        "SELECT datastream_id, MAX(phenomenon_time_start) FROM observations GROUP BY datastream_id",
    )?;
    let latest_naive = time_sync(3, || {
        let n = c.query(&naive_sql, &[])?.len();
        anyhow::ensure!(n as i64 == e.datastreams, "GROUP BY: {n} rows");
        Ok(())
    })?;
    let (from, to) = series_window();
    let series_sql = c.prepare(
        "SELECT phenomenon_time_start, result FROM observations
         WHERE datastream_id = 7 AND phenomenon_time_start >= $1 AND phenomenon_time_start < $2
         ORDER BY phenomenon_time_start",
    )?;
    let series = time_sync(runs, || {
        let n = c.query(&series_sql, &[&from, &to])?.len();
        anyhow::ensure!(n == e.series_rows, "series SQL: {n} rows");
        Ok(())
    })?;
    Ok(Raw {
        count_all,
        count_maintained,
        count_datastream,
        count_filtered,
        latest,
        latest_naive,
        series,
    })
}

/// Rows of the series window in one datastream of `per_ds` rows from T0.
pub fn series_rows(per_ds: i64) -> usize {
    let (from, to) = series_window();
    (0..per_ds)
        .map(|i| T0 + i * FIVE_MIN)
        .filter(|t| (from..to).contains(t))
        .count()
}

/// The raw SQL beside read `r`.
pub fn raw_for(r: Read, raw: &Raw) -> String {
    match r {
        Read::CountAll | Read::CountTop1 => format!(
            "{} (`COUNT(*)`); {} (`SUM(observation_count)`)",
            raw.count_all.show(),
            raw.count_maintained.show()
        ),
        Read::CountDatastream => raw.count_datastream.show(),
        Read::CountFiltered => format!(
            "{} (`COUNT(*) … WHERE result > 99.5`: a scan, or the result index with `BENCH_RESULT_INDEX=1`)",
            raw.count_filtered.show()
        ),
        Read::LatestApi | Read::LatestSta => format!(
            "{} (maintained join); {} (naive `GROUP BY`)",
            raw.latest.show(),
            raw.latest_naive.show()
        ),
        Read::Series | Read::SeriesDataArray => raw.series.show(),
    }
}
