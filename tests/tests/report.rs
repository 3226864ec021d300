//! The commune's annual report on the demo commune, on SQLite and PostgreSQL: the XLSX is
//! read back and every figure of every sheet is checked against the database (computed
//! here from the register and the decisions, not by the report's code), the totals equal
//! the sums of the rows, and the CSV and JSON carry the same figures.

use calamine::{Data, Reader, Xlsx};
use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};
use shared::household::HouseholdStatus;
use shared::review::{ReviewStep, StepData};
use std::collections::BTreeMap;
use tests::{Backend, TestDb, TestServer, on_both_backends};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// (date, from, to) of a household's decisions, oldest first.
type Path = Vec<(NaiveDate, HouseholdStatus, HouseholdStatus)>;

fn path_of(steps: &[ReviewStep]) -> Path {
    let mut p: Path = steps
        .iter()
        .filter_map(|s| match s.data {
            StepData::Decision { from, to, .. } if from != to => Some((s.date, from, to)),
            _ => None,
        })
        .collect();
    p.sort_by_key(|c| c.0);
    p
}

fn status_on(now: HouseholdStatus, p: &Path, day: NaiveDate) -> HouseholdStatus {
    let mut s = p.first().map_or(now, |c| c.1);
    for c in p.iter().filter(|c| c.0 <= day) {
        s = c.2;
    }
    s
}

/// The sheet's rows from the fifth on (title, period, blank, header above).
fn sheet(book: &mut Xlsx<std::io::Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<Data>> {
    let range = book.worksheet_range(name).unwrap();
    range.rows().skip(4).map(<[Data]>::to_vec).collect()
}

fn num(c: &Data) -> f64 {
    match c {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

async fn the_annual_xlsx_holds_the_databases_figures(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let store = db.store().await;
    server::demo::create(store.as_ref(), server::demo::today_for_demo())
        .await
        .unwrap();
    let srv = TestServer::start(store.clone(), None).await;
    let token = srv
        .login_with("congchuc", server::demo::PASSWORD, "office-pc")
        .await;
    let get = |format: &'static str| {
        let (srv, token) = (&srv, &token);
        async move {
            let r = reqwest::Client::new()
                .get(srv.url(&format!(
                    "/api/reports?year=2025&period=annual&format={format}"
                )))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{format}");
            r.bytes().await.unwrap().to_vec()
        }
    };
    let bytes = get("xlsx").await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();

    // What the database says, computed here.
    let (from, to) = (d("2025-01-01"), d("2025-12-31"));
    let areas = store.list_areas().await.unwrap();
    let commune = areas.iter().find(|a| a.name == "Xã Đồng Vương").unwrap();
    let villages: Vec<_> = areas
        .iter()
        .filter(|a| a.parent_id.as_deref() == Some(commune.id.as_str()))
        .collect();
    let households = store
        .list_households(&server::store::HouseholdFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let targets = store
        .list_targets(&areas.iter().map(|a| a.id.clone()).collect::<Vec<_>>())
        .await
        .unwrap();
    let users: BTreeMap<String, String> = store
        .list_users(None)
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.id, u.full_name))
        .collect();
    // Per village: 17 figures in the sheet's order (rates as fractions, None for no target).
    let mut expected: BTreeMap<String, Vec<Option<f64>>> = BTreeMap::new();
    let mut causes: BTreeMap<String, usize> = BTreeMap::new();
    let mut support: BTreeMap<String, (usize, std::collections::BTreeSet<String>, i64)> =
        BTreeMap::new();
    let mut visits: BTreeMap<String, (usize, std::collections::BTreeSet<String>)> = BTreeMap::new();
    let mut fell_back = 0;
    for v in &villages {
        let mut n = [0usize; 13];
        for h in households.iter().filter(|h| h.village_id == v.id) {
            let p = path_of(&store.list_review_steps(&h.id).await.unwrap());
            let (start, end) = (
                status_on(h.status, &p, d("2024-12-31")),
                status_on(h.status, &p, to),
            );
            n[0] += 1;
            n[1] += usize::from(start == HouseholdStatus::Poor);
            n[2] += usize::from(start == HouseholdStatus::NearPoor);
            n[3] += 1;
            n[4] += usize::from(end == HouseholdStatus::Poor);
            n[5] += usize::from(end == HouseholdStatus::NearPoor);
            let listed = |s| matches!(s, HouseholdStatus::Poor | HouseholdStatus::NearPoor);
            let mut escaped_before = false;
            for &(day, a, b) in &p {
                let inside = from <= day && day <= to;
                let k = if a == HouseholdStatus::Poor && b != HouseholdStatus::Poor {
                    Some(6)
                } else if b == HouseholdStatus::Poor {
                    Some(if escaped_before { 8 } else { 7 })
                } else if b == HouseholdStatus::NearPoor && !listed(a) {
                    Some(9)
                } else if a == HouseholdStatus::NearPoor && !listed(b) {
                    Some(10)
                } else {
                    None
                };
                escaped_before |= a == HouseholdStatus::Poor && b != HouseholdStatus::Poor;
                if let (Some(k), true) = (k, inside) {
                    n[k] += 1;
                }
            }
            if end == HouseholdStatus::Poor {
                for c in &h.causes {
                    *causes.entry(c.label().vi).or_default() += 1;
                }
            }
            for s in store.list_support(&h.id).await.unwrap() {
                if s.delivered_date.is_some_and(|x| from <= x && x <= to) {
                    let e = support.entry(s.data.project.label().vi).or_default();
                    e.0 += 1;
                    e.1.insert(h.id.clone());
                    e.2 += s.data.amount_vnd.unwrap_or(0);
                }
            }
            for x in store.list_visits(&h.id).await.unwrap() {
                if from <= x.data.date && x.data.date <= to {
                    let e = visits.entry(users[&x.cadre_id].clone()).or_default();
                    e.0 += 1;
                    e.1.insert(h.id.clone());
                }
            }
        }
        fell_back += n[8];
        let rate = |a: usize, b: usize| Some((a as f64 * 10_000.0 / b as f64).round() / 10_000.0);
        let t = targets
            .iter()
            .find(|t| t.area_id == v.id && t.year == 2025)
            .unwrap();
        expected.insert(
            v.name.clone(),
            vec![
                Some(n[0] as f64),
                Some(n[1] as f64),
                rate(n[1], n[0]),
                Some(n[2] as f64),
                rate(n[2], n[0]),
                Some(n[3] as f64),
                Some(n[4] as f64),
                rate(n[4], n[3]),
                Some(t.data.poor_rate_pct / 100.0),
                Some(n[5] as f64),
                rate(n[5], n[3]),
                Some(t.data.near_poor_rate_pct / 100.0),
                Some(n[6] as f64),
                Some(n[7] as f64),
                Some(n[8] as f64),
                Some(n[9] as f64),
                Some(n[10] as f64),
            ],
        );
    }
    assert_eq!(fell_back, 1, "the demo's household that fell back in 2025");

    // The summary sheet: every village's figures, then the total as the sums of the rows.
    let rows = sheet(&mut book, server::export::SUMMARY);
    assert_eq!(rows.len(), villages.len() + 1);
    let mut sums = [0.0f64; 17];
    for row in &rows[..villages.len()] {
        let name = row[0].to_string();
        let want = &expected[&name];
        for (i, w) in want.iter().enumerate() {
            let got = row
                .get(i + 1)
                .filter(|c| !matches!(c, Data::Empty))
                .map(num);
            match (got, w) {
                (Some(g), Some(w)) => assert!((g - w).abs() < 1e-9, "{name} column {i}: {g} ≠ {w}"),
                (g, w) => assert_eq!(g, *w, "{name} column {i}"),
            }
            sums[i] += got.unwrap_or(0.0);
        }
    }
    let total = &rows[villages.len()];
    assert_eq!(total[0].to_string(), "Tổng cộng");
    for i in [0, 1, 3, 5, 6, 9, 12, 13, 14, 15, 16] {
        assert_eq!(num(&total[i + 1]), sums[i], "total of column {i}");
    }
    assert!((num(&total[8]) - ((sums[6] * 10_000.0 / sums[5]).round() / 10_000.0)).abs() < 1e-9);
    assert!(sums[12] > 0.0, "households escaped in 2025");

    // The movement table: every village and the total, in every category, add up
    // (start + inflows − outflows = end, and the sheet's own check is 0); its poor and
    // near-poor ends are the summary's, and each category's total is the sum of villages.
    let moves = sheet(&mut book, server::export::MOVEMENT);
    assert_eq!(moves.len(), (villages.len() + 1) * 5);
    let width = server::export::movement_header().len();
    let (n_in, n_out) = {
        let (i, o) = shared::report::flows::columns();
        (i.len(), o.len())
    };
    let mut by_category: BTreeMap<String, [f64; 2]> = BTreeMap::new();
    for row in &moves {
        assert_eq!(row.len(), width);
        let start = num(&row[2]);
        let ins: f64 = row[3..3 + n_in].iter().map(num).sum();
        assert_eq!(num(&row[3 + n_in]), ins);
        let outs: f64 = row[4 + n_in..4 + n_in + n_out].iter().map(num).sum();
        assert_eq!(num(&row[4 + n_in + n_out]), outs);
        let end = num(&row[5 + n_in + n_out]);
        assert_eq!(start + ins - outs, end, "{row:?}");
        assert_eq!(num(&row[6 + n_in + n_out]), 0.0, "the check column");
        let e = by_category
            .entry(format!(
                "{}{}",
                row[0] == Data::String("Tổng cộng".into()),
                row[1]
            ))
            .or_default();
        e[0] += start;
        e[1] += end;
    }
    for category in ["Hộ nghèo", "Hộ cận nghèo", "Tổng số hộ"] {
        let villages_sum = by_category[&format!("false{category}")];
        let total = by_category[&format!("true{category}")];
        assert_eq!(
            villages_sum, total,
            "{category}: the total is the sum of the villages"
        );
    }
    assert_eq!(
        by_category["trueHộ nghèo"][1], sums[6],
        "poor at the end, as the summary"
    );

    // Causes, support by project, visits by cadre.
    for row in sheet(&mut book, "Nguyên nhân") {
        let want = causes.get(&row[0].to_string()).copied().unwrap_or(0);
        assert_eq!(num(&row[1]) as usize, want, "{}", row[0]);
    }
    let got: BTreeMap<String, (usize, usize, i64)> = sheet(&mut book, "Hỗ trợ")
        .into_iter()
        .map(|r| {
            (
                r[0].to_string(),
                (num(&r[1]) as usize, num(&r[2]) as usize, num(&r[3]) as i64),
            )
        })
        .collect();
    let want: BTreeMap<String, (usize, usize, i64)> = support
        .into_iter()
        .map(|(k, (n, h, a))| (k, (n, h.len(), a)))
        .collect();
    assert_eq!(got, want);
    assert!(!got.is_empty());
    let got: BTreeMap<String, (usize, usize)> = sheet(&mut book, "Thăm hộ")
        .into_iter()
        .map(|r| (r[0].to_string(), (num(&r[1]) as usize, num(&r[2]) as usize)))
        .collect();
    let want: BTreeMap<String, (usize, usize)> = visits
        .into_iter()
        .map(|(k, (n, h))| (k, (n, h.len())))
        .collect();
    assert_eq!(got, want);

    // The households behind the figures: the escaped ones of 2025 are listed in their window.
    let window = sheet(&mut book, "Mới thoát nghèo");
    assert_eq!(
        window.len() as f64,
        sums[12],
        "every household escaped in 2025 is in its window"
    );

    // The JSON and the CSV carry the same figures.
    let json: Value = serde_json::from_slice(&get("json").await).unwrap();
    assert_eq!(json["total"]["escaped"].as_f64().unwrap(), sums[12]);
    assert_eq!(json["total"]["poor_end"].as_f64().unwrap(), sums[6]);
    for category in json["total"]["flows"].as_array().unwrap() {
        let add = |k: &str| {
            category[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["count"].as_i64().unwrap())
                .sum::<i64>()
        };
        assert_eq!(
            category["start"].as_i64().unwrap() + add("inflows") - add("outflows"),
            category["end"].as_i64().unwrap(),
            "{category}"
        );
    }
    let csv = String::from_utf8(get("csv").await).unwrap();
    assert!(
        csv.starts_with('\u{feff}'),
        "a byte-order mark for spreadsheet programs"
    );
    let total_line = csv.lines().find(|l| l.starts_with("Tổng cộng")).unwrap();
    assert_eq!(
        total_line.split(',').nth(7).unwrap(),
        format!("{}", sums[6])
    );

    // The province viewer gets the figures, not the households.
    let tinh = srv.login_with("tinh", server::demo::PASSWORD, "pc").await;
    let r = reqwest::Client::new()
        .get(srv.url("/api/reports?year=2025&period=half_year"))
        .bearer_auth(&tinh)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["rows"].as_array().unwrap().len(), 1, "one commune");
    assert_eq!(p["households"], serde_json::json!([]));
    assert_eq!(p["to"], "2025-06-30");
    // Put together commune by commune: its one row is the commune's own report's total,
    // and its total the same figures under the province's name.
    let commune: Value = reqwest::Client::new()
        .get(srv.url("/api/reports?year=2025&period=half_year"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["rows"][0], commune["total"]);
    for k in ["households_end", "poor_end", "escaped", "flows"] {
        assert_eq!(p["total"][k], commune["total"][k], "{k}");
    }
    db.cleanup().await;
}

/// The province's report of `year` as the province viewer gets it, and each commune's own
/// report (counted from the register, not from a kept part) by commune id.
async fn province_and_communes(
    srv: &TestServer,
    token: &str,
    year: i32,
    communes: &[String],
) -> (Value, BTreeMap<String, Value>) {
    let province = srv
        .get_json(token, &format!("/api/reports?year={year}&period=annual"))
        .await;
    let mut own = BTreeMap::new();
    for c in communes {
        let path = format!("/api/reports?year={year}&period=annual&area_id={c}");
        own.insert(c.clone(), srv.get_json(token, &path).await);
    }
    (province, own)
}

/// The mark a test puts on a kept part's name, to see the part read again.
const KEPT: &str = "kept part: ";

/// The communes (in order) whose province rows were read from a marked kept part.
/// A report's visits by cadre without the cadres' names, in the order of their ids.
fn by_cadre_id(visits: &Value) -> Value {
    let mut rows: Vec<Value> = visits.as_array().unwrap().clone();
    for r in &mut rows {
        r.as_object_mut().unwrap().remove("cadre");
    }
    rows.sort_by_key(|r| r["cadre_id"].as_str().unwrap().to_string());
    Value::Array(rows)
}

fn kept_rows(province: &Value) -> Vec<String> {
    let mut ids: Vec<String> = province["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().unwrap().starts_with(KEPT))
        .map(|r| r["area_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Each row of the province's report is its commune's own report's total (but for a kept
/// part's mark), and the province's total adds them up.
fn rows_are_the_communes(province: &Value, own: &BTreeMap<String, Value>) {
    let rows = province["rows"].as_array().unwrap();
    assert_eq!(rows.len(), own.len());
    for row in rows {
        let id = row["area_id"].as_str().unwrap();
        let mut row = row.clone();
        let name = row["name"]
            .as_str()
            .unwrap()
            .trim_start_matches(KEPT)
            .to_string();
        row["name"] = Value::from(name);
        assert_eq!(&row, &own[id]["total"], "the row of {id}");
    }
    for k in ["households_end", "poor_end", "near_poor_end", "escaped"] {
        let sum: i64 = rows.iter().map(|r| r[k].as_i64().unwrap()).sum();
        assert_eq!(province["total"][k].as_i64().unwrap(), sum, "{k}");
    }
}

/// A loan of 123,000,000 VND delivered on `day` to a poor household of `commune`, written
/// through the write core as an officer's edit.
async fn deliver_loan(store: &server::store::DynStore, commune: &str, day: NaiveDate, id: &str) {
    let villages = store.villages_under(commune).await.unwrap();
    let household = store
        .list_households(&server::store::HouseholdFilter {
            within: server::store::Within::Villages(villages),
            status: Some(HouseholdStatus::Poor),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let loan = shared::support::SupportAction {
        id: id.into(),
        household_id: household.id.clone(),
        status: shared::support::SupportStatus::Delivered,
        delivered_date: Some(day),
        data: shared::support::SupportInput {
            kind: shared::support::SupportKind::Loan,
            project: shared::support::Project::OtherPolicy,
            provider: "NHCSXH".into(),
            amount_vnd: Some(123_000_000),
            quantity: None,
            unit: String::new(),
            planned_date: day,
            addresses_cause: None,
            addresses_indicator: None,
            note: String::new(),
        },
    };
    let record = shared::projection::support_json(&loan);
    tests::write::edit(store, &household.id, serde_json::json!({}), |d, a| {
        d.put_record(shared::doc::Collection::Support, &loan.id, &record, a)
    })
    .await
    .unwrap();
}

/// Marks every kept part of `communes` for the annual report of `year` in place (same
/// stamp, same epoch): a report that reads a kept part shows the mark (`kept_rows`).
async fn mark_kept(store: &server::store::DynStore, communes: &[String], year: i32) {
    for part in store.report_parts(communes, year, "annual").await.unwrap() {
        let mut report: Value = serde_json::from_str(&part.part).unwrap();
        let name = report["total"]["name"].as_str().unwrap().to_string();
        report["total"]["name"] = Value::from(format!("{KEPT}{name}"));
        let marked = server::store::ReportPart {
            part: report.to_string(),
            ..part
        };
        store
            .put_report_parts(&[(year, "annual", marked)])
            .await
            .unwrap();
    }
}

/// The total amount of the support a report counts.
fn amount(r: &Value) -> i64 {
    r["support"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["amount_vnd"].as_i64().unwrap())
        .sum()
}

/// A province of three small communes made by the demo's generator, served, with the
/// province viewer's token and the communes' ids in order.
struct Province {
    db: TestDb,
    store: server::store::DynStore,
    srv: TestServer,
    tinh: String,
    communes: Vec<String>,
    today: NaiveDate,
    year: i32,
}

async fn province_of_three(b: Backend) -> Option<Province> {
    let db = TestDb::open(b).await?;
    let store = db.store().await;
    let today = server::demo::today_for_demo();
    let size = server::demo::Size {
        communes: 3,
        households_per_commune: 100,
    };
    server::demo::create_province(store.as_ref(), today, size)
        .await
        .unwrap();
    let srv = TestServer::start(store.clone(), None).await;
    let tinh = srv.login_with("tinh", server::demo::PASSWORD, "pc").await;
    let mut communes: Vec<String> = store
        .list_areas()
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.kind == shared::area::AreaKind::Commune)
        .map(|a| a.id)
        .collect();
    communes.sort();
    assert_eq!(communes.len(), 3);
    let year = today.format("%Y").to_string().parse().unwrap();
    Some(Province {
        db,
        store,
        srv,
        tinh,
        communes,
        today,
        year,
    })
}

/// A province's report sums its communes' kept parts: a second report counts nothing
/// again, a household written in one commune has that commune (only) counted again, and
/// a renamed cadre, a user added and a changed target are shown at once with no commune
/// counted again — each time equal to the communes' own reports counted
/// from the register.
async fn a_province_report_counts_again_only_what_was_written_since(b: Backend) {
    let Some(Province {
        db,
        store,
        srv,
        tinh,
        communes,
        today,
        year,
    }) = province_of_three(b).await
    else {
        return;
    };
    let kept = || async {
        let mut parts: Vec<(String, i64, i64)> = store
            .report_parts(&communes, year, "annual")
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.area_id, p.built_seq, p.epoch))
            .collect();
        parts.sort();
        parts
    };

    let (first, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&first, &own);
    let counted = kept().await;
    assert_eq!(counted.len(), 3, "a part kept for every commune");
    // Each kept part is marked in place: a report that reads the kept part shows the mark,
    // one counted again from the register does not.
    mark_kept(&store, &communes, year).await;
    let (again, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&again, &own);
    assert_eq!(kept_rows(&again), communes, "nothing counted again");
    assert_eq!(
        kept().await,
        counted,
        "nothing written, nothing stamped again"
    );

    // A loan delivered today to a household of the second commune.
    let second = &communes[1];
    deliver_loan(&store, second, today, "report-part-loan").await;
    let (after, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&after, &own);
    assert_eq!(
        amount(&after),
        amount(&first) + 123_000_000,
        "the loan is counted"
    );
    let others: Vec<String> = communes.iter().filter(|c| *c != second).cloned().collect();
    assert_eq!(
        kept_rows(&after),
        others,
        "the written commune is counted again, no other"
    );
    let recounted = kept().await;
    // The parts found current are stamped with this report's clock, like the one counted
    // again: the next report's check reads only what is written after it.
    assert!(
        recounted
            .iter()
            .all(|p| p.1 == recounted[0].1 && p.1 > counted[0].1)
    );

    // A cadre's new password, role and area change no report: every part stays kept.
    mark_kept(&store, &communes, year).await;
    let before = kept().await;
    let visited = first["visits"][0].clone();
    let mut cadre = store
        .get_user(visited["cadre_id"].as_str().unwrap())
        .await
        .unwrap();
    cadre.role = shared::user::Role::VillageHead;
    cadre.area_id = communes[2].clone();
    store
        .update_user(&server::store::Actor::system(), &cadre, Some("new-hash"))
        .await
        .unwrap();
    let (edited, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&edited, &own);
    assert_eq!(kept_rows(&edited), communes, "nothing counted again");
    // Renamed, the cadre's visits are shown by the new name at once, and still no commune
    // is counted again: the parts keep visits by the cadre's id. A user added changes no
    // report either.
    let row_of = |report: &Value, cadre: &Value| {
        report["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["cadre_id"] == *cadre)
            .unwrap()
            .clone()
    };
    cadre.full_name = format!("{} (đổi tên)", cadre.full_name);
    store
        .update_user(&server::store::Actor::system(), &cadre, None)
        .await
        .unwrap();
    let mut added = cadre.clone();
    added.id = "report-parts-new-cadre".into();
    added.username = "report-parts-new-cadre".into();
    store
        .create_user(&server::store::Actor::system(), &added, "hash")
        .await
        .unwrap();
    let (renamed, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&renamed, &own);
    assert_eq!(kept_rows(&renamed), communes, "nothing counted again");
    let row = row_of(&renamed, &visited["cadre_id"]);
    assert_eq!(row["cadre"].as_str(), Some(cadre.full_name.as_str()));
    assert_eq!(
        (&row["visits"], &row["households"]),
        (&visited["visits"], &visited["households"]),
        "the same figures under the new name"
    );
    // Another cadre of the report given the same name: two rows, each named with its area
    // too (and the start of its id where the area is shared), so they can be told apart;
    // no login is printed.
    let other = first["visits"][1].clone();
    let mut namesake = store
        .get_user(other["cadre_id"].as_str().unwrap())
        .await
        .unwrap();
    namesake.full_name = cadre.full_name.clone();
    store
        .update_user(&server::store::Actor::system(), &namesake, None)
        .await
        .unwrap();
    let (same_name, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&same_name, &own);
    assert_eq!(kept_rows(&same_name), communes, "nothing counted again");
    let areas = store.list_areas().await.unwrap();
    let mut labels = vec![];
    for (user, was) in [(&cadre, &visited), (&namesake, &other)] {
        let row = row_of(&same_name, &was["cadre_id"]);
        let label = row["cadre"].as_str().unwrap().to_string();
        let area = &areas.iter().find(|a| a.id == user.area_id).unwrap().name;
        assert!(
            label.starts_with(&format!("{} ({area}", user.full_name)),
            "{label}"
        );
        assert!(!label.contains(&user.username), "{label}");
        assert_eq!(row["visits"], was["visits"]);
        labels.push(label);
    }
    assert_ne!(labels[0], labels[1]);
    let recounted = kept().await;
    assert_eq!(
        recounted.iter().map(|p| p.2).collect::<Vec<_>>(),
        before.iter().map(|p| p.2).collect::<Vec<_>>(),
        "the same epoch"
    );

    // A new target for the first commune is shown at once, and counts no commune again.
    mark_kept(&store, &communes, year).await;
    let first_commune = &communes[0];
    store
        .put_target(
            &server::store::Actor::system(),
            &shared::target::Target {
                area_id: first_commune.clone(),
                year,
                data: shared::target::TargetInput {
                    poor_rate_pct: 1.5,
                    near_poor_rate_pct: 2.5,
                    indicator_goals: Default::default(),
                },
            },
        )
        .await
        .unwrap();
    let (retargeted, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&retargeted, &own);
    let row = retargeted["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["area_id"] == first_commune.as_str())
        .unwrap();
    assert_eq!(
        (&row["target_poor_pct"], &row["target_near_poor_pct"]),
        (&json!(1.5), &json!(2.5))
    );
    assert_eq!(kept_rows(&retargeted), communes, "nothing counted again");
    assert_eq!(
        kept().await.iter().map(|p| p.2).collect::<Vec<_>>(),
        recounted.iter().map(|p| p.2).collect::<Vec<_>>(),
        "the same epoch"
    );
    db.cleanup().await;
}

/// Through the commune officer's doors: a household of the demo commune leaves the
/// register in the middle of `year - 2`, and a household is registered today.
async fn left_before_and_registered_today(
    srv: &TestServer,
    store: &server::store::DynStore,
    year: i32,
) {
    let officer = store
        .list_users(None)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.username == "congchuc")
        .unwrap();
    let village = store
        .villages_under(&officer.area_id)
        .await
        .unwrap()
        .remove(0);
    let household = store
        .list_households(&server::store::HouseholdFilter {
            within: server::store::Within::Villages(vec![village.clone()]),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let token = srv
        .login_with("congchuc", server::demo::PASSWORD, "pc")
        .await;
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(srv.url(path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let step = json!({"household_ids": [household.id], "date": format!("{}-06-01", year - 2),
        "step": {"kind": "left", "reason": "moved_away", "number": "5/XN-UBND"}});
    let r = post("/api/reviews/steps", step).await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["refused"], Value::Null, "{body}");
    let new = json!({"code": "MOI-1", "village_id": village, "address": "",
        "head_name": "Lò Văn Mới", "residence": "rural"});
    let r = post("/api/households", new).await.unwrap();
    assert_eq!(r.status(), 201);
}

/// A poor household of the demo commune with causes, and no decision this year, taken
/// out of poverty this year through the review's legal steps (the village head's review,
/// the meeting, the posting, the leader's decision): last year's reports count it poor at
/// the year's end, with its causes, though it is no longer poor.
async fn escaped_this_year(srv: &TestServer, store: &server::store::DynStore, today: NaiveDate) {
    let year = today.year();
    let day = |back: u64| (today - chrono::Days::new(back)).to_string();
    let users = store.list_users(None).await.unwrap();
    let leader = users.iter().find(|u| u.username == "chutich").unwrap();
    let commune = leader.area_id.clone();
    let within = server::store::Within::Communes(vec![commune]);
    let this_year = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
    let stepped: std::collections::BTreeSet<String> = store
        .review_steps_in(&within, Some("decision"), Some(this_year))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.household_id)
        .collect();
    let household = store
        .list_households(&server::store::HouseholdFilter {
            within,
            status: Some(HouseholdStatus::Poor),
            in_register_only: true,
            limit: 10_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .find(|h| !h.causes.is_empty() && !stepped.contains(&h.id))
        .expect("a poor household with causes and no decision this year");
    let head = users
        .iter()
        .find(|u| u.role == shared::user::Role::VillageHead && u.area_id == household.village_id)
        .expect("its village's head");
    let vh = srv
        .login_with(&head.username, server::demo::PASSWORD, "vh-phone")
        .await;
    let chair = srv
        .login_with("chutich", server::demo::PASSWORD, "office")
        .await;
    let client = reqwest::Client::new();
    let post = |token: &str, path: String, body: Value| {
        client
            .post(srv.url(&path))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let r = post(
        &vh,
        format!("/api/households/{}/assessments", household.id),
        json!({"kind": "annual", "date": day(12), "evidence": {"residence": "rural",
            "income": {"kind": "income", "per_person_month": 4_000_000},
            "deprivation": {"kind": "indicators", "deprived": []}}}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    // The review's steps in the last days (after any step of this year's campaign).
    for (token, date, step) in [
        (
            &vh,
            day(11),
            json!({"kind": "meeting", "attendees": 40, "agreed": 30}),
        ),
        (&vh, day(10), json!({"kind": "posted", "until": day(3)})),
        (
            &chair,
            day(1),
            json!({"kind": "decision", "number": "21/QĐ-UBND", "approved": true}),
        ),
    ] {
        let body = json!({"household_ids": [household.id], "date": date, "step": step});
        let r = post(token, "/api/reviews/steps".into(), body)
            .await
            .unwrap();
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer[0]["refused"], Value::Null, "{answer}");
    }
    let now = store.get_household(&household.id).await.unwrap();
    assert_ne!(now.status, HouseholdStatus::Poor, "decided out of poverty");
    assert_eq!(now.causes, household.causes, "its causes kept");
}

/// The keeper (`donghanh serve`'s background pass) counts a province's parts before anyone
/// asks: after its pass, the province's report counts no commune itself; after a
/// household of one commune is written, the next pass counts that commune again (the
/// report reads it kept, with the new loan); a pass with nothing written counts nothing;
/// and of several processes, only the one holding the keeper's lease passes.
async fn the_keeper_counts_the_stale_parts_before_anyone_asks(b: Backend) {
    let Some(Province {
        db,
        store,
        srv,
        tinh,
        communes,
        today,
        year,
    }) = province_of_three(b).await
    else {
        return;
    };
    let parts = |year: i32, period: &'static str| {
        let (store, communes) = (store.clone(), communes.clone());
        async move {
            let mut parts: Vec<(String, String)> = store
                .report_parts(&communes, year, period)
                .await
                .unwrap()
                .into_iter()
                .map(|p| (p.area_id, p.part))
                .collect();
            parts.sort();
            parts
        }
    };
    assert!(parts(year, "annual").await.is_empty(), "nothing kept yet");
    // Beside the demo's households (whose ledgers hold only their entry, mostly): one
    // that left the register before every period counted, one registered today.
    left_before_and_registered_today(&srv, &store, year).await;
    // And one poor with causes at last year's end, out of poverty since: read on its own,
    // its causes count in last year's figures.
    escaped_this_year(&srv, &store, today).await;

    server::report_keeper::pass(store.as_ref(), today)
        .await
        .unwrap();
    // Each commune's households were read once for the three periods: each part is its
    // period's figures, as the commune's own report counts them from the register.
    for (y, period) in [(year, "half_year"), (year, "annual"), (year - 1, "annual")] {
        let kept = parts(y, period).await;
        assert_eq!(kept.len(), 3, "{y} {period}: every commune kept");
        for (commune, part) in kept {
            let path = format!("/api/reports?year={y}&period={period}&area_id={commune}");
            let mut own = srv.get_json(&tinh, &path).await;
            own["rows"] = Value::Array(vec![]);
            own["households"] = Value::Array(vec![]);
            let mut part: Value = serde_json::from_str(&part).unwrap();
            // A kept part holds its visits by cadre id; the names are put on when a
            // report is given.
            for r in [&mut part, &mut own] {
                r["visits"] = by_cadre_id(&r["visits"]);
            }
            assert_eq!(part, own, "{y} {period} of {commune}");
        }
    }
    mark_kept(&store, &communes, year).await;
    let (first, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&first, &own);
    assert_eq!(kept_rows(&first), communes, "the report counted no commune");

    deliver_loan(&store, &communes[2], today, "keeper-loan").await;
    let before = parts(year, "annual").await;
    server::report_keeper::pass(store.as_ref(), today)
        .await
        .unwrap();
    let after = parts(year, "annual").await;
    let changed: Vec<&String> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| b.1 != a.1)
        .map(|(b, _)| &b.0)
        .collect();
    assert_eq!(
        changed,
        vec![&communes[2]],
        "only the written commune counted again"
    );
    mark_kept(&store, &communes, year).await;
    let (second, own) = province_and_communes(&srv, &tinh, year, &communes).await;
    rows_are_the_communes(&second, &own);
    assert_eq!(
        kept_rows(&second),
        communes,
        "the report counted no commune"
    );
    assert_eq!(
        amount(&second),
        amount(&first) + 123_000_000,
        "the loan is counted"
    );

    let before = parts(year, "annual").await;
    server::report_keeper::pass(store.as_ref(), today)
        .await
        .unwrap();
    assert_eq!(
        parts(year, "annual").await,
        before,
        "nothing written, nothing counted"
    );

    // One process at a time keeps the parts: while one holds the keeper's lease, another's
    // pass counts nothing, until the holder stops and its lease runs out.
    let current = || {
        let (store, communes) = (store.clone(), communes.clone());
        async move {
            let epoch = store.report_clock().await.unwrap().1;
            let kept = store.report_parts(&communes, year, "annual").await.unwrap();
            kept.len() == communes.len() && kept.iter().all(|p| p.epoch == epoch)
        }
    };
    let lease = std::time::Duration::from_secs(600);
    let pass_as = |holder: &'static str| {
        let store = store.clone();
        async move {
            server::report_keeper::pass_holding(store.as_ref(), today, holder, lease)
                .await
                .unwrap()
        }
    };
    store.forget_report_parts().await.unwrap();
    assert!(pass_as("one").await, "the first to ask holds the lease");
    assert!(current().await, "and counts every stale part");
    store.forget_report_parts().await.unwrap();
    assert!(!pass_as("two").await, "the lease is the first's");
    assert!(!current().await, "so the second counts nothing");
    assert!(pass_as("one").await, "the holder renews it");
    assert!(current().await);
    // The first process stopped long ago: its lease ran out.
    let now = chrono::Utc::now().timestamp_millis();
    assert!(store.take_keeper_lease("one", now, now - 1).await.unwrap());
    store.forget_report_parts().await.unwrap();
    assert!(pass_as("two").await, "another process takes over");
    assert!(current().await);
    assert!(!pass_as("one").await, "and keeps it");
    db.cleanup().await;
}

on_both_backends!(
    the_annual_xlsx_holds_the_databases_figures,
    a_province_report_counts_again_only_what_was_written_since,
    the_keeper_counts_the_stale_parts_before_anyone_asks
);
