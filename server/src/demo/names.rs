//! The seeded generator every part of the demo draws from, and the names it draws: the
//! same seed gives the same commune, ids included, so two demo databases of a day agree.

use shared::household::Sex;
use shared::rules::RuleSet;

pub(super) const FAMILY: [&str; 12] = [
    "Hoàng", "Nông", "Lý", "Triệu", "Đặng", "Nguyễn", "Lương", "Vi", "Hà", "Dương", "Bàn", "Trần",
];
const MIDDLE_M: [&str; 5] = ["Văn", "Văn", "Đức", "Thành", "Quang"];
const MIDDLE_F: [&str; 4] = ["Thị", "Thị", "Thu", "Ngọc"];
const GIVEN_M: [&str; 14] = [
    "Páo", "Sình", "Minh", "Tuấn", "Hùng", "Dũng", "Chiến", "Thắng", "Lợi", "Sơn", "Tài", "Quý",
    "Khánh", "Phúc",
];
const GIVEN_F: [&str; 14] = [
    "Mai", "Lan", "Hường", "Nhung", "Thảo", "Hoa", "Liên", "Vân", "Dung", "Yến", "Hằng", "Chiên",
    "Mẩy", "Sen",
];
pub(super) const ETHNIC: [&str; 6] = ["Tày", "Nùng", "Dao", "Sán Dìu", "Kinh", "Kinh"];

/// The seeded source of every choice the demo makes.
pub(super) struct Gen {
    pub rng: fastrand::Rng,
}

impl Gen {
    /// The generator of the `index`-th commune of the province (0: the demo commune).
    pub fn for_commune(index: usize) -> Gen {
        Gen {
            rng: fastrand::Rng::with_seed(0x00D0_4E64_2024 + ((index as u64) << 40)),
        }
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.rng.usize(..xs.len())]
    }

    pub fn id(&mut self) -> String {
        let hi = self.rng.u64(..);
        let lo = self.rng.u64(..);
        uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
            .into_uuid()
            .to_string()
    }

    pub fn name(&mut self, family: &str, sex: Sex) -> String {
        let (mid, given): (&[&str], &[&str]) = match sex {
            Sex::Male => (&MIDDLE_M, &GIVEN_M),
            Sex::Female => (&MIDDLE_F, &GIVEN_F),
        };
        format!("{family} {} {}", self.pick(mid), self.pick(given))
    }

    /// `min..=max` of the rule set's indicators, chosen at random.
    pub fn deprivations(&mut self, rs: &RuleSet, min: usize, max: usize) -> Vec<String> {
        let n = self.rng.usize(min..=max);
        let mut codes: Vec<String> = rs.indicators.iter().map(|i| i.code.clone()).collect();
        self.rng.shuffle(&mut codes);
        codes.truncate(n);
        codes
    }
}
