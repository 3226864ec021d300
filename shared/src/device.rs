//! A device's name people can recognise ("Chrome · Android · SM-A125F"), read from what its
//! browser says of itself, so a list of devices never shows bare ids.

/// The browser and system a `User-Agent` names, and the phone model where it gives one.
pub fn name_from_user_agent(ua: &str) -> Option<String> {
    let browser = [
        ("EdgA/", "Edge"),
        ("Edg/", "Edge"),
        ("SamsungBrowser/", "Samsung Internet"),
        ("OPR/", "Opera"),
        ("CriOS/", "Chrome"),
        ("FxiOS/", "Firefox"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .into_iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| name);
    let inside = ua
        .split_once('(')
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(inner, _)| inner)
        .unwrap_or_default();
    let parts: Vec<&str> = inside.split(';').map(str::trim).collect();
    let system = if ua.contains("iPhone") {
        Some("iPhone")
    } else if ua.contains("iPad") {
        Some("iPad")
    } else if ua.contains("Android") {
        Some("Android")
    } else if ua.contains("Windows") {
        Some("Windows")
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        Some("Mac")
    } else if ua.contains("CrOS") {
        Some("Chromebook")
    } else if ua.contains("Linux") {
        Some("Linux")
    } else {
        None
    };
    // Android browsers name the model after the Android version ("Android 13; SM-A145F");
    // those that hide it say "K".
    let model = (system == Some("Android"))
        .then(|| {
            parts
                .iter()
                .skip_while(|p| !p.starts_with("Android"))
                .nth(1)
                .map(|m| m.split(" Build/").next().unwrap_or(m).trim())
        })
        .flatten()
        .filter(|m| !m.is_empty() && *m != "K" && *m != "wv");
    let words: Vec<&str> = [browser, system, model].into_iter().flatten().collect();
    crate::api::device_name(&words.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::name_from_user_agent;

    #[test]
    fn a_device_is_named_by_its_browser_system_and_model() {
        let android = "Mozilla/5.0 (Linux; Android 13; SM-A145F Build/TP1A.220624.014) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
        assert_eq!(
            name_from_user_agent(android).as_deref(),
            Some("Chrome · Android · SM-A145F")
        );
        let reduced = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(
            name_from_user_agent(reduced).as_deref(),
            Some("Chrome · Android")
        );
        let windows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        assert_eq!(
            name_from_user_agent(windows).as_deref(),
            Some("Edge · Windows")
        );
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(
            name_from_user_agent(iphone).as_deref(),
            Some("Safari · iPhone")
        );
        assert_eq!(name_from_user_agent(""), None);
        assert_eq!(name_from_user_agent("curl/8.0"), None);
    }

    #[test]
    fn a_name_is_cleaned_and_bounded() {
        use crate::api::{DEVICE_NAME_MAX, device_name};
        assert_eq!(
            device_name("  Máy\u{7} của  Pản \n").as_deref(),
            Some("Máy của Pản")
        );
        assert_eq!(device_name(" \t "), None);
        assert_eq!(
            device_name(&"á".repeat(500)).unwrap().chars().count(),
            DEVICE_NAME_MAX
        );
    }
}
