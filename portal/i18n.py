"""The portal's texts in its two languages: Vietnamese (default) and English.

Texts are looked up by key (:func:`text`); numbers and dates are written by
:mod:`web.formatting` (``1.234.567`` / ``1,234,567``). The language travels in the page URL
(``?lang=en``), so every page is a plain link away in either language and a bookmark keeps it.
"""

from __future__ import annotations

from typing import Final

from web.formatting import Lang

TEXTS: Final[dict[str, tuple[str, str]]] = {
    # key: (Vietnamese, English)
    "site.title": ("VaxViet — tiêm chủng COVID-19", "VaxViet — COVID-19 vaccination"),
    "site.tagline": ("Cổng dữ liệu tiêm chủng mở", "Open vaccination data portal"),
    "nav.home": ("Tổng quan", "Overview"),
    "nav.certificate": ("Giấy chứng nhận", "Certificate"),
    "nav.verify": ("Kiểm tra mã QR", "Verify a QR code"),
    "nav.corrections": ("Yêu cầu chỉnh sửa", "Corrections"),
    "nav.supply": ("Cung ứng vắc xin", "Vaccine supply"),
    "nav.api": ("Dữ liệu mở (API)", "Open data (API)"),
    "nav.status": ("Trạng thái", "Status"),
    "nav.skip": ("Bỏ qua đến nội dung chính", "Skip to main content"),
    "lang.switch": ("English", "Tiếng Việt"),
    "lang.switch_label": ("Switch to English", "Chuyển sang tiếng Việt"),
    "banner.stale": (
        "Kho dữ liệu tạm thời không truy cập được: trang đang hiển thị số liệu đã lưu gần nhất.",
        "The data warehouse cannot be reached: this page shows the last stored figures.",
    ),
    "banner.unavailable": (
        "Kho dữ liệu tạm thời không truy cập được và chưa có số liệu lưu sẵn. Vui lòng thử lại sau.",
        "The data warehouse cannot be reached and no stored figures are available yet. "
        "Please try again later.",
    ),
    "footer.licence": (
        "Số liệu được công bố theo giấy phép CC BY 4.0: được tự do dùng lại, ghi rõ nguồn VaxViet.",
        "Figures are published under CC BY 4.0: free to reuse with attribution to VaxViet.",
    ),
    "stamp.as_of": ("Dữ liệu đến hết ngày", "Data up to and including"),
    "stamp.updated": ("cập nhật lúc", "updated at"),
    "stamp.none": ("Chưa có dữ liệu tiêm chủng.", "No vaccination data yet."),
    "supply.title": (
        "Vắc xin, đăng ký và tiêm chủng theo tỉnh",
        "Vaccine supply, registrations and doses by province",
    ),
    "home.title": ("Tiêm chủng COVID-19 tại Việt Nam", "COVID-19 vaccination in Viet Nam"),
    "headline.doses": ("Tổng số mũi đã tiêm", "Total doses given"),
    "headline.dose1": ("Người đã tiêm ≥ 1 mũi", "People with ≥ 1 dose"),
    "headline.full": ("Người tiêm đủ liều cơ bản", "People with a full primary series"),
    "headline.boosters": ("Mũi nhắc lại", "Booster doses"),
    "headline.of_total": ("dân số", "of the population"),
    "headline.of_adult": ("dân số từ 18 tuổi", "of people aged 18+"),
    "headline.today": ("Số mũi trong ngày", "Doses that day"),
    "headline.yesterday": ("ngày trước đó", "the day before"),
    "headline.avg7": ("trung bình 7 ngày", "7-day average"),
    "control.metric": ("Chỉ số", "Measure"),
    "control.denominator": ("Mẫu số", "Denominator"),
    "control.date": ("Số liệu tính đến ngày", "Figures as of"),
    "control.snapshot": ("Xem ngày 04/08/2021", "Show 4 Aug 2021"),
    "control.latest": ("Mới nhất", "Latest"),
    "control.geography": ("Địa giới", "Boundaries"),
    "control.view": ("Hiển thị", "Show as"),
    "view.map": ("Bản đồ", "Map"),
    "view.table": ("Bảng", "Table"),
    "geography.63": ("63 tỉnh (đến 6/2025)", "63 provinces (until June 2025)"),
    "geography.34": ("34 tỉnh (từ 7/2025)", "34 provinces (from July 2025)"),
    "metric.pct_dose1": ("% dân số đã tiêm ≥ 1 mũi", "% with ≥ 1 dose"),
    "metric.pct_full": ("% tiêm đủ liều cơ bản", "% with a full primary series"),
    "metric.pct_booster": ("% đã tiêm mũi nhắc lại", "% with a booster"),
    "metric.per100": ("Số mũi trên 100 người", "Doses per 100 people"),
    "denominator.total": ("Toàn bộ dân số", "Whole population"),
    "denominator.adult": ("Dân số từ 18 tuổi", "Population aged 18+"),
    "map.title": ("Bản đồ độ bao phủ theo tỉnh", "Coverage by province"),
    "map.hint": (
        "Chọn một tỉnh trên bản đồ hoặc trong bảng để xem chi tiết.",
        "Select a province on the map or in the table for its details.",
    ),
    "daily.title": ("Số mũi tiêm mỗi ngày", "Doses per day"),
    "daily.doses": ("Số mũi", "Doses"),
    "daily.avg7": ("Trung bình 7 ngày", "7-day average"),
    "table.title": ("Xếp hạng các tỉnh", "Province ranking"),
    "table.download": ("Tải về CSV", "Download CSV"),
    "col.rank": ("Hạng", "Rank"),
    "col.area": ("Tỉnh/thành", "Province"),
    "col.population": ("Dân số", "Population"),
    "col.dose1": ("≥ 1 mũi", "≥ 1 dose"),
    "col.full": ("Đủ liều cơ bản", "Full primary series"),
    "col.boosters": ("Mũi nhắc lại", "Boosters"),
    "col.doses": ("Tổng số mũi", "Total doses"),
    "col.pct_dose1": ("% ≥ 1 mũi", "% ≥ 1 dose"),
    "col.pct_full": ("% đủ liều", "% full series"),
    "col.pct_booster": ("% nhắc lại", "% booster"),
    "col.per100": ("Mũi/100 người", "Doses/100"),
    "col.capped": ("Đã giới hạn ở 100%", "Capped at 100%"),
    "notes.title": ("Ghi chú về số liệu", "About these figures"),
    "notes.denominator": (
        "Mẫu số: dân số Tổng điều tra 2019 ({population} người) hoặc dân số từ 18 tuổi của "
        "cùng cuộc điều tra ({adult} người), theo tỉnh.",
        "Denominators: the 2019 census population ({population} people) or its population "
        "aged 18 and over ({adult}), per province.",
    ),
    "notes.sample": (
        "Số liệu này là một mẫu {share} của cả nước: mỗi mẫu số là dân số nhân {fraction} "
        "({sample_population} người cho cả nước), nên tỷ lệ phần trăm và số mũi trên 100 người "
        "đọc như của cả nước; các số đếm là của mẫu.",
        "These figures are a {share} sample of the country: every denominator is the "
        "population × {fraction} ({sample_population} people for the whole country), so "
        "percentages and doses per 100 read as the country's; counts are the sample's own.",
    ),
    "sample.simulated": (
        "Dữ liệu mô phỏng: một mẫu {share} của cả nước; dân số được thu nhỏ theo cùng tỷ lệ.",
        "Simulated data: a {share} sample of the country; populations are scaled to match.",
    ),
    "sample.simulated_whole": (
        "Dữ liệu mô phỏng ở quy mô cả nước, không phải hồ sơ tiêm chủng thật.",
        "Simulated data at the whole country's scale, not real vaccination records.",
    ),
    "sample.partial": (
        "Dữ liệu mẫu: {share} của cả nước; dân số được thu nhỏ theo cùng tỷ lệ.",
        "Sampled data: {share} of the country; populations are scaled to match.",
    ),
    "notes.dose1": (
        "Người đã tiêm ≥ 1 mũi = số mũi thứ nhất đã tiêm.",
        "People with ≥ 1 dose = first doses given.",
    ),
    "notes.full": (
        "Tiêm đủ liều cơ bản = số mũi hoàn thành phác đồ cơ bản của loại vắc xin đó: mũi 2, "
        "mũi 1 với vắc xin một liều (Janssen), hoặc mũi 3 với Abdala (phác đồ 3 mũi).",
        "Full primary series = doses that complete their product's primary series: dose 2, "
        "dose 1 of a single-dose product (Janssen), or dose 3 of Abdala (a 3-dose series).",
    ),
    "notes.boosters": (
        "Mũi nhắc lại = các mũi sau phác đồ cơ bản của loại vắc xin đó: từ mũi 3 trở đi, từ "
        "mũi 2 với Janssen, từ mũi 4 với Abdala (mũi 3 Abdala thuộc phác đồ cơ bản).",
        "Boosters = doses beyond their product's primary series: dose 3 and later, dose 2 and "
        "later of Janssen, dose 4 and later of Abdala (an Abdala third dose is primary).",
    ),
    "notes.cap": (
        "Tỷ lệ được giới hạn ở 100%: số mũi được tính theo tỉnh nơi tiêm, còn dân số theo nơi cư "
        "trú năm 2019, nên một tỉnh tiêm cho người lao động hoặc người từ tỉnh khác đến có thể "
        "vượt quá dân số của mình. Bảng cho biết tỉnh nào bị giới hạn.",
        "Percentages are capped at 100%: doses count in the province where they were given, "
        "population where people lived in 2019, so a province vaccinating commuters or "
        "migrants can exceed its own population. The table marks capped provinces.",
    ),
    "notes.2025": (
        "Ranh giới 34 tỉnh (từ 01/07/2025) là tổng của các tỉnh cũ được sáp nhập nguyên vẹn.",
        "The 34 provinces in force since 1 July 2025 are sums of whole former provinces.",
    ),
    "province.title": ("Tỉnh", "Province"),
    "province.unknown": ("Không có tỉnh với mã này.", "There is no province with this code."),
    "province.back": ("← Về trang tổng quan", "← Back to the overview"),
    "province.region": ("Vùng", "Region"),
    "province.successor": ("Tỉnh từ 01/07/2025", "Province from 1 July 2025"),
    "province.sites": ("Số điểm tiêm đã hoạt động", "Vaccination sites that gave doses"),
    "province.trend": ("Độ bao phủ theo thời gian", "Coverage over time"),
    "province.compare": ("So sánh với vùng và cả nước", "Compared with its region and the country"),
    "province.split": ("Số mũi theo thứ tự mũi", "Doses by dose number"),
    "province.mix": ("Cơ cấu vắc xin", "Vaccine mix"),
    "province.national": ("Cả nước", "Viet Nam"),
    "dose.n": ("Mũi {n}", "Dose {n}"),
    "api.title": ("Dữ liệu mở — API", "Open data — API"),
    "corrections.title": (
        "Yêu cầu chỉnh sửa hồ sơ tiêm chủng",
        "Requests to correct vaccination records",
    ),
    "corrections.none": ("Chưa có yêu cầu chỉnh sửa nào.", "No correction requests yet."),
    "corrections.received": ("Đã nhận", "Received"),
    "corrections.approved": ("Chấp thuận", "Approved"),
    "corrections.rejected": ("Từ chối", "Rejected"),
    "corrections.open": ("Đang chờ xử lý", "Open"),
    "corrections.open_end": ("Đang chờ cuối tháng", "Open at the month's end"),
    "corrections.resolved": ("Đã xử lý", "Resolved"),
    "corrections.median": ("Số ngày xử lý (trung vị)", "Median days to resolve"),
    # the certificate page (portal/pages/certificate.py); the card's own words are
    # certificates.card.WORDS (the PNG and the PDF say them too)
    "certificate.title": ("Giấy chứng nhận tiêm chủng", "Vaccination certificate"),
    "certificate.intro": (
        "Nhập thông tin như trong hồ sơ tiêm chủng. Mã xác nhận sẽ được gửi tới số điện thoại "
        "đã đăng ký.",
        "Enter your details as recorded; a one-time code goes to the phone on record.",
    ),
    "certificate.cccd": ("Số CCCD", "Citizen ID (CCCD)"),
    "certificate.name": ("Họ và tên", "Full name"),
    "certificate.dob": ("Ngày sinh (năm-tháng-ngày)", "Date of birth (year-month-day)"),
    "certificate.phone": ("Số điện thoại", "Phone"),
    "certificate.send": ("Gửi mã", "Send code"),
    "certificate.code": ("Mã xác nhận", "One-time code"),
    "certificate.confirm": ("Xem giấy chứng nhận", "Show certificate"),
    "certificate.png": ("Tải ảnh PNG", "Download PNG"),
    "certificate.pdf": ("Tải PDF", "Download PDF"),
    "certificate.qr_alt": (
        "Mã QR của giấy chứng nhận: đưa cho người kiểm tra quét",
        "The certificate's QR code: show it to be scanned",
    ),
    "certificate.report": ("Báo sai sót trong hồ sơ", "Report a problem with your record"),
    "certificate.kind.missing_dose": ("Thiếu một mũi tiêm", "A dose is missing"),
    "certificate.kind.not_mine": ("Có mũi tiêm không phải của tôi", "A dose is not mine"),
    "certificate.kind.identity": (
        "Sai họ tên, ngày sinh hoặc giới tính",
        "Wrong name, date of birth or sex",
    ),
    "certificate.day": ("Ngày tiêm (năm-tháng-ngày)", "Day of the dose (year-month-day)"),
    "certificate.site": ("Mã điểm tiêm (trên phiếu tiêm)", "Site code (on your vaccination slip)"),
    "certificate.vaccine": ("Vắc xin", "Vaccine"),
    "certificate.lot": ("Số lô (nếu biết)", "Lot number (if known)"),
    "certificate.dose": ("Mũi tiêm không phải của tôi", "The dose that is not mine"),
    "certificate.new_name": ("Họ và tên đúng", "Correct full name"),
    "certificate.new_dob": (
        "Ngày sinh đúng (năm-tháng-ngày)",
        "Correct date of birth (year-month-day)",
    ),
    "certificate.new_sex": ("Giới tính đúng", "Correct sex"),
    "certificate.sex.M": ("Nam", "Male"),
    "certificate.sex.F": ("Nữ", "Female"),
    "certificate.sex.O": ("Khác", "Other"),
    "certificate.file": ("Gửi yêu cầu", "File the request"),
    "certificate.follow": ("Theo dõi một yêu cầu đã gửi", "Follow a request you filed"),
    # what the certificate page's scripts say (embedded in them, both languages)
    "certificate.say.sent": (
        "Nếu thông tin khớp với hồ sơ, mã xác nhận đã được gửi tới điện thoại (hiệu lực 5 phút).",
        "If the details match our records, a code was sent to the phone (valid 5 minutes).",
    ),
    "certificate.say.invalid": ("Thông tin không hợp lệ", "Invalid details"),
    "certificate.say.too_many": (
        "Quá nhiều yêu cầu, thử lại sau {wait} giây",
        "Too many requests, retry in {wait} s",
    ),
    "certificate.say.unavailable": (
        "Dịch vụ tạm thời không khả dụng",
        "The service is unavailable",
    ),
    "certificate.say.field.citizen_id": (
        "Số CCCD phải có 12 chữ số",
        "The CCCD number has 12 digits",
    ),
    "certificate.say.field.full_name": ("Hãy nhập họ tên", "Enter the full name"),
    "certificate.say.field.date_of_birth": ("Ngày sinh không hợp lệ", "Invalid date of birth"),
    "certificate.say.field.phone": ("Số điện thoại không hợp lệ", "Invalid phone number"),
    "certificate.say.attempts": (
        "Quá nhiều lần thử, thử lại sau {wait} giây",
        "Too many attempts, retry in {wait} s",
    ),
    "certificate.say.rejected": (
        "Mã không đúng hoặc đã hết hạn",
        "The code is wrong or has expired",
    ),
    "certificate.say.no_certificate": (
        "Hồ sơ chưa có mũi tiêm nào để cấp giấy chứng nhận",
        "The record has no dose to certify yet",
    ),
    "certificate.say.pdf_many": (
        "Quá nhiều lần tải, thử lại sau {wait} giây",
        "Too many downloads, retry in {wait} s",
    ),
    "certificate.say.pdf_failed": (
        "Không tạo được PDF ({status})",
        "The PDF could not be made ({status})",
    ),
    "certificate.say.pdf_done": ("Đã tải PDF", "PDF downloaded"),
    "certificate.say.png_failed": (
        "Không tạo được ảnh PNG ({status})",
        "The PNG could not be made ({status})",
    ),
    "certificate.say.png_done": ("Đã tải ảnh PNG", "PNG downloaded"),
    "certificate.say.look_up_first": (
        "Hãy tra cứu giấy chứng nhận trước",
        "Look your certificate up first",
    ),
    "certificate.say.filed": (
        "Đã nhận yêu cầu. Mã yêu cầu: {reference} — hãy ghi lại; mã cũng được gửi qua SMS. "
        "Theo dõi tại /certificate/request.",
        "Request received. Reference: {reference} — keep it; it was also sent by SMS. "
        "Follow it at /certificate/request.",
    ),
    "certificate.say.not_filed": ("Không gửi được ({status})", "Could not be filed ({status})"),
}


def text(key: str, lang: Lang, **values: object) -> str:
    """The text for `key` in `lang`, with ``{name}`` fields filled from `values`."""
    vi, en = TEXTS[key]
    chosen = en if lang == "en" else vi
    return chosen.format(**values) if values else chosen
