//! What a booking costs: the seats' category prices, a convenience fee per ticket, and GST on
//! that fee. Pure arithmetic in integer paise so that every screen, email and payment agrees
//! to the paisa.

use serde::Serialize;

/// A booking's price breakdown, all in paise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, sqlx::FromRow)]
pub struct Amount {
    pub seats_paise: i64,
    pub fee_paise: i64,
    pub tax_paise: i64,
    pub total_paise: i64,
}

/// Prices `seat_prices` (one entry per seat) with `fee_per_ticket` paise of convenience fee
/// per seat and `gst_percent` GST on the fee, rounded half up to the paisa.
pub fn price(seat_prices: &[i64], fee_per_ticket: i64, gst_percent: i64) -> Amount {
    let seats_paise: i64 = seat_prices.iter().sum();
    let fee_paise = fee_per_ticket * seat_prices.len() as i64;
    let tax_paise = percent_rounded(fee_paise, gst_percent);
    Amount {
        seats_paise,
        fee_paise,
        tax_paise,
        total_paise: seats_paise + fee_paise + tax_paise,
    }
}

/// `value * percent / 100`, rounded half up (amounts are never negative).
fn percent_rounded(value: i64, percent: i64) -> i64 {
    (value * percent + 50) / 100
}

/// "₹1,234.50" in the Indian digit grouping (lakhs and crores).
pub fn format_rupees(paise: i64) -> String {
    let sign = if paise < 0 { "-" } else { "" };
    let paise = paise.unsigned_abs();
    let rupees = (paise / 100).to_string();
    let fraction = paise % 100;
    let grouped = if rupees.len() <= 3 {
        rupees
    } else {
        let (head, last3) = rupees.split_at(rupees.len() - 3);
        let mut groups: Vec<&str> = Vec::new();
        let mut rest = head;
        while rest.len() > 2 {
            let (a, b) = rest.split_at(rest.len() - 2);
            groups.push(b);
            rest = a;
        }
        groups.push(rest);
        groups.reverse();
        format!("{},{last3}", groups.join(","))
    };
    format!("{sign}₹{grouped}.{fraction:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_fee_and_gst_on_two_seats() {
        // Two seats at ₹250 and ₹150, ₹30 fee each, 18% GST on the ₹60 fee = ₹10.80.
        let amount = price(&[25_000, 15_000], 3_000, 18);
        assert_eq!(amount.seats_paise, 40_000);
        assert_eq!(amount.fee_paise, 6_000);
        assert_eq!(amount.tax_paise, 1_080);
        assert_eq!(amount.total_paise, 47_080);
    }

    #[test]
    fn gst_rounds_half_up_to_the_paisa() {
        // 18% of 1,025 paise = 184.5 -> 185; 18% of 1,022 = 183.96 -> 184; 18% of 1,021 = 183.78 -> 184
        assert_eq!(price(&[0], 1_025, 18).tax_paise, 185);
        assert_eq!(price(&[0], 1_022, 18).tax_paise, 184);
        assert_eq!(price(&[0], 1_002, 18).tax_paise, 180);
        // 5% of 10 paise = 0.5 -> 1
        assert_eq!(price(&[0], 10, 5).tax_paise, 1);
        // 5% of 9 paise = 0.45 -> 0
        assert_eq!(price(&[0], 9, 5).tax_paise, 0);
    }

    #[test]
    fn zero_fee_means_zero_tax() {
        let amount = price(&[45_000], 0, 18);
        assert_eq!(
            amount,
            Amount {
                seats_paise: 45_000,
                fee_paise: 0,
                tax_paise: 0,
                total_paise: 45_000
            }
        );
    }

    #[test]
    fn no_seats_costs_nothing() {
        assert_eq!(price(&[], 3_000, 18), Amount::default());
    }

    #[test]
    fn rupees_use_indian_grouping() {
        assert_eq!(format_rupees(25_000), "₹250.00");
        assert_eq!(format_rupees(47_080), "₹470.80");
        assert_eq!(format_rupees(123_456_789), "₹12,34,567.89");
        assert_eq!(format_rupees(5), "₹0.05");
        assert_eq!(format_rupees(100_000), "₹1,000.00");
    }
}
