//! Failure reasons in plain words. The journal keeps the precise, technical reason ("the server
//! answered 404 Not Found", "gave up after 6 attempts: could not connect: …"); the page shows
//! this sentence first — what happened and what the person can do — and the precise reason
//! beneath it in small print.

/// A plain-words sentence for a failure `reason` as the journal holds it.
pub fn explain(reason: &str) -> String {
    let r = reason.to_ascii_lowercase();
    if r.contains("did not give haul the product page") {
        // Whatever status the shop used for it, the way out is the same.
        return "The shop would not show its product page to haul (shops keep pages from programs). Open the page in your browser and press the haul button.".to_string();
    }
    let status = http_status(&r);
    let text = match status {
        Some(404 | 410) => {
            "The file is no longer on the shop's server (it was removed or the link is out of date)."
        }
        Some(401 | 403) => {
            "The shop's server refused to hand out this file. Try again from the product page in your browser."
        }
        Some(429) => {
            "The shop's server asked haul to slow down. Wait a few minutes, then press Try again."
        }
        Some(500..=599) => {
            "The shop's server had a problem. This is usually temporary — press Try again later."
        }
        Some(_) => "The shop's server answered with an error instead of the file.",
        None if r.contains("instead of an image or video") => {
            "The server sent a web page instead of a picture or video — usually an expired or blocked link. If the address is a shop's product page, open it in your browser and press the haul button."
        }
        None if r.contains("refused to download from") => {
            "haul does not download from addresses inside your own network, for your safety."
        }
        None if r.contains("only http and https") || r.contains("is not a valid url") => {
            "This is not a web address haul can download."
        }
        None if r.contains("could not connect") || r.contains("dns") => {
            "haul could not reach the server. Check that this computer is online, then press Try again."
        }
        None if r.contains("slower than the minimum") => {
            "The server sent the file so slowly that haul gave up (min_rate_bytes_per_sec). Press Try again later."
        }
        None if r.contains("item_deadline_secs") => {
            "The file took too long to download, so haul stopped (item_deadline_secs). Press Try again later."
        }
        None if r.contains("timed out") => {
            "The server stopped answering. Press Try again; it usually works the second time."
        }
        None if r.contains("connection broke")
            || r.contains("of the") && r.contains("bytes it announced") =>
        {
            "The download was cut off before it finished. Press Try again."
        }
        None if r.contains("redirect") => {
            "The link kept sending haul somewhere else, so haul stopped following it."
        }
        None if r.contains("max_file_bytes") => {
            "The file is bigger than the largest file haul is set to save (max_file_bytes)."
        }
        None if r.contains("max_job_bytes") => {
            "This product's files together are bigger than haul is set to save (max_job_bytes)."
        }
        None if r.contains("damaged") => "The file is damaged, so haul could not clean it.",
        // Before "cannot write": a folder haul may not write to is not a full disk.
        None if r.contains("read-only file system") => {
            "The folder haul saves to is on a read-only disk. Choose another output folder, or make the disk writable."
        }
        None if r.contains("permission denied") || r.contains("access is denied") => {
            "haul is not allowed to write in this folder. Choose another output folder, or give yourself write permission to it."
        }
        None if r.contains("could not record the job in its journal") => {
            "haul could not write its job journal (is the disk holding haul's data full?). Free some space, then press Try again."
        }
        None if r.contains("cannot write")
            || r.contains("no space")
            || r.contains("disk is full") =>
        {
            "haul could not write to the disk. Check that there is free space."
        }
        None if r == "cancelled" || r == "stopped" => "You stopped this.",
        None if r.contains("nothing to save") => "The page had no pictures or videos to save.",
        None if r.contains("nothing could be saved") => {
            "None of the files could be saved. The reason for each is shown below."
        }
        None => return sentence(reason),
    };
    text.to_string()
}

/// `Some(404)` for "… answered 404 Not Found …".
fn http_status(r: &str) -> Option<u16> {
    let after = r.split("answered ").nth(1)?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The reason itself, as a sentence.
fn sentence(reason: &str) -> String {
    let reason = reason.trim();
    let mut chars = reason.chars();
    let mut s = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
        None => return "Something went wrong.".to_string(),
    };
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_failures_read_plainly() {
        assert!(explain("the server answered 404 Not Found").contains("no longer"));
        assert!(
            explain("gave up after 6 attempts: the server answered 503 Service Unavailable")
                .contains("temporary")
        );
        assert!(explain("the server answered 429 Too Many Requests").contains("slow down"));
        assert!(
            explain("the server sent an HTML page instead of an image or video")
                .contains("web page")
        );
        assert!(explain("gave up after 3 attempts: timed out: reading").contains("stopped"));
        assert!(
            explain(
                &crate::fetch::page::NotServed::new(
                    "https://www.amazon.com/dp/B0X",
                    "it answered 503 Service Unavailable"
                )
                .to_string()
            )
            .contains("press the haul button")
        );
        let read_only =
            explain("cannot write /out/.x.zip.haul-1.partial: Read-only file system (os error 30)");
        assert!(
            read_only.contains("read-only") && !read_only.contains("free space"),
            "{read_only}"
        );
        let denied = explain("cannot write /out/x: Permission denied (os error 13)");
        assert!(
            denied.contains("not allowed") && !denied.contains("free space"),
            "{denied}"
        );
        assert!(
            explain("cannot write /out/x: No space left on device (os error 28)")
                .contains("free space")
        );
        assert_eq!(explain("something odd"), "Something odd.");
        assert_eq!(explain(""), "Something went wrong.");
    }
}
