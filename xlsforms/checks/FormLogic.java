import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.javarosa.core.model.SelectChoice;
import org.javarosa.core.model.data.IAnswerData;
import org.javarosa.core.reference.Reference;
import org.javarosa.core.reference.ReferenceFactory;
import org.javarosa.core.reference.ReferenceManager;
import org.javarosa.test.Scenario;

/**
 * Form-logic scenarios run in JavaRosa, the engine inside ODK Collect.
 *
 * <p>Uses org.javarosa.test.Scenario from the ODK Validate jar that pyxform ships.
 * tests/test_xlsforms.py compiles and runs this with the converted XForms and
 * communes.csv in one directory (args[0]); it exits 1 if any check fails.
 */
public class FormLogic {
  static File dir;

  /** Resolves jr://file-csv/NAME (form media) to dir/NAME. */
  static class FileRef implements Reference {
    final String uri; final File f;
    FileRef(String u, File f) { this.uri = u; this.f = f; }
    public boolean doesBinaryExist() { return f.exists(); }
    public InputStream getStream() throws IOException { return new FileInputStream(f); }
    public String getURI() { return uri; }
    public String getLocalURI() { return f.getAbsolutePath(); }
    public boolean isReadOnly() { return true; }
    public OutputStream getOutputStream() { throw new UnsupportedOperationException(); }
    public void remove() {}
    public Reference[] probeAlternativeReferences() { return new Reference[0]; }
  }
  static int fails = 0;
  static void check(String what, Object got, Object want) {
    boolean ok = Objects.equals(String.valueOf(got), String.valueOf(want));
    if (!ok) fails++;
    System.out.println((ok ? "ok   " : "FAIL ") + what + " -> " + got + (ok ? "" : " (want " + want + ")"));
  }
  static Scenario.AnswerResult date(Scenario s, String p, LocalDate d) {
    s.getFormEntryController().jumpToIndex(s.indexOf(p));
    return s.answer(d);
  }
  static String val(Scenario s, String p) {
    IAnswerData a = s.answerOf(p);
    return a == null ? "" : a.getDisplayText();
  }
  static boolean rel(Scenario s, String p) { return s.getAnswerNode(p).isRelevant(); }
  static List<String> choices(Scenario s, String p) {
    List<String> out = new ArrayList<>();
    for (SelectChoice c : s.choicesOf(p)) out.add(c.getValue());
    return out;
  }

  public static void main(String[] args) throws Exception {
    dir = new File(args.length > 0 ? args[0] : ".");
    ReferenceManager.instance().addReferenceFactory(new ReferenceFactory() {
      public boolean derives(String u) { return u.startsWith("jr://file"); }
      public Reference derive(String u) { return new FileRef(u, new File(dir, u.substring(u.lastIndexOf('/') + 1))); }
      public Reference derive(String u, String c) { return derive(u); }
    });

    // outreach_session
    Scenario s = Scenario.init(new File(dir, "outreach_session.xml"));
    check("communes listed", choices(s, "/data/session/commune").size(), 94);
    check("pick Tây Giang", s.answer("/data/session/commune", "20455"), "OK");
    check("commune_name", val(s, "/data/commune_name"), "Tây Giang");
    check("village", s.answer("/data/session/village", "thôn Aur"), "OK");
    check("future date", date(s, "/data/session/session_date", LocalDate.now().plusDays(2)), "CONSTRAINT_VIOLATED");
    check("old date", date(s, "/data/session/session_date", LocalDate.of(2025, 6, 30)), "CONSTRAINT_VIOLATED");
    check("ok date", date(s, "/data/session/session_date", LocalDate.of(2026, 11, 20)), "OK");
    check("n_total 10", s.answer("/data/participants/n_total", 10), "OK");
    check("women 5", s.answer("/data/participants/n_women", 5), "OK");
    check("women 11 > total", s.answer("/data/participants/n_women", 11), "CONSTRAINT_VIOLATED");
    check("girls 11 > total", s.answer("/data/participants/n_girls", 11), "CONSTRAINT_VIOLATED");
    s.answer("/data/participants/n_women", 5);
    s.answer("/data/participants/n_girls", 3);
    s.answer("/data/participants/n_men", 2);
    check("boys 1 -> sum 11 > 10", s.answer("/data/participants/n_boys", 1), "CONSTRAINT_VIOLATED");
    check("boys 0 -> sum 10", s.answer("/data/participants/n_boys", 0), "OK");
    check("n_unsorted", val(s, "/data/n_unsorted"), "0");
    check("unsorted note hidden", rel(s, "/data/participants/unsorted_note"), false);
    s.answer("/data/participants/n_men", 1);
    check("unsorted note shown", rel(s, "/data/participants/unsorted_note"), true);
    check("n_women_girls", val(s, "/data/n_women_girls"), "8");
    check("ethnic 11 > total", s.answer("/data/participants/n_ethnic_minority", 11), "CONSTRAINT_VIOLATED");
    check("ethnic 7", s.answer("/data/participants/n_ethnic_minority", 7), "OK");
    check("materials none+leaflet", s.answer("/data/materials_partners/materials", "none", "leaflet"), "CONSTRAINT_VIOLATED");
    check("materials none", s.answer("/data/materials_partners/materials", "none"), "OK");
    check("count hidden for none", rel(s, "/data/materials_partners/materials_count"), false);
    s.answer("/data/materials_partners/materials", "leaflet", "other");
    check("count shown", rel(s, "/data/materials_partners/materials_count"), true);
    check("materials_other shown", rel(s, "/data/materials_partners/materials_other"), true);
    check("format other hidden", rel(s, "/data/activity/format_other"), false);
    s.answer("/data/activity/format", "other");
    check("format other shown", rel(s, "/data/activity/format_other"), true);
    check("no-photo reason shown", rel(s, "/data/photos/no_attendance_reason"), true);
    check("photo_2 hidden", rel(s, "/data/photos/photo_2"), false);
    check("instanceName", val(s, "/data/meta/instanceName"), "2026-11-20 · Tây Giang · thôn Aur · 10 người");

    // victim_case
    s = Scenario.init(new File(dir, "victim_case.xml"));
    check("bad code", s.answer("/data/case/case_code", "dn-2026-00123"), "CONSTRAINT_VIOLATED");
    check("bad code 2", s.answer("/data/case/case_code", "DN-26-00123"), "CONSTRAINT_VIOLATED");
    check("good code", s.answer("/data/case/case_code", "DN-2026-00123"), "OK");
    check("good code 4 letters", s.answer("/data/case/case_code", "BPTG-2026-017"), "OK");
    date(s, "/data/case/id_date", LocalDate.of(2026, 11, 28));
    s.answer("/data/consent_block/consent", "no");
    check("pii hidden without consent", rel(s, "/data/pii"), false);
    check("full_name hidden", rel(s, "/data/pii/full_name"), false);
    check("age asked", rel(s, "/data/profile/age_band_asked"), true);
    check("minority asked", rel(s, "/data/profile/ethnic_minority_asked"), true);
    s.answer("/data/consent_block/consent", "yes");
    check("pii shown with consent", rel(s, "/data/pii/full_name"), true);
    check("age still asked (no birth year)", rel(s, "/data/profile/age_band_asked"), true);
    check("birth year 1939", s.answer("/data/pii/birth_year", 1939), "CONSTRAINT_VIOLATED");
    check("birth year 2027", s.answer("/data/pii/birth_year", 2027), "CONSTRAINT_VIOLATED");
    check("birth year 2011", s.answer("/data/pii/birth_year", 2011), "OK");
    check("age asked hidden", rel(s, "/data/profile/age_band_asked"), false);
    check("age_band u16", val(s, "/data/age_band"), "u16");
    s.answer("/data/pii/birth_year", 2009);
    check("age_band 16_17", val(s, "/data/age_band"), "16_17");
    s.answer("/data/pii/ethnicity", "co_tu");
    check("ethnic_minority yes", val(s, "/data/ethnic_minority"), "yes");
    check("minority not asked", rel(s, "/data/profile/ethnic_minority_asked"), false);
    s.answer("/data/consent_block/consent", "no");
    check("consent withdrawn: age asked again", rel(s, "/data/profile/age_band_asked"), true);
    s.answer("/data/profile/age_band_asked", "18_29");
    check("consent withdrawn: age_band from asked", val(s, "/data/age_band"), "18_29");
    s.answer("/data/profile/ethnic_minority_asked", "no");
    check("consent withdrawn: minority from asked", val(s, "/data/ethnic_minority"), "no");
    s.answer("/data/consent_block/consent", "yes");
    s.answer("/data/pii/id_type", "cccd");
    check("cccd 11 digits", s.answer("/data/pii/id_number", "04920300123"), "CONSTRAINT_VIOLATED");
    check("cccd 12 digits", s.answer("/data/pii/id_number", "049203001234"), "OK");
    s.answer("/data/pii/id_type", "passport");
    check("passport", s.answer("/data/pii/id_number", "C1234567"), "OK");
    s.answer("/data/pii/id_type", "none");
    check("no id -> number hidden", rel(s, "/data/pii/id_number"), false);
    check("phone ok", s.answer("/data/pii/phone", "0912345678"), "OK");
    check("phone intl", s.answer("/data/pii/phone", "+8562055512345"), "OK");
    check("phone bad", s.answer("/data/pii/phone", "912345678"), "CONSTRAINT_VIOLATED");
    check("commune hidden before province", rel(s, "/data/profile/commune"), false);
    s.answer("/data/profile/residence_province", "48");
    check("commune shown for 48", rel(s, "/data/profile/commune"), true);
    check("communes filtered to 48", choices(s, "/data/profile/commune").size(), 94);
    check("pick La Êê", s.answer("/data/profile/commune", "20698"), "OK");
    s.answer("/data/profile/residence_province", "01");
    check("commune hidden for Hà Nội", rel(s, "/data/profile/commune"), false);
    s.answer("/data/profile/residence_province", "48");
    check("needs none+medical", s.answer("/data/needs", "none", "medical"), "CONSTRAINT_VIOLATED");
    check("needs", s.answer("/data/needs", "medical", "legal_aid", "travel_home"), "OK");
    check("services offered", choices(s, "/data/services"), "[medical, legal_aid, travel_home]");
    check("services subset", s.answer("/data/services", "medical", "travel_home"), "OK");
    check("all_needs_served no", val(s, "/data/all_needs_served"), "no");
    check("services not assessed", s.answer("/data/services", "medical", "accommodation"), "CONSTRAINT_VIOLATED");
    s.answer("/data/services", "medical", "legal_aid", "travel_home");
    check("all_needs_served yes", val(s, "/data/all_needs_served"), "yes");
    s.answer("/data/needs", "none");
    check("services hidden for none", rel(s, "/data/services"), false);
    check("all_needs_served no_needs", val(s, "/data/all_needs_served"), "no_needs");
    s.answer("/data/follow_up/risk", "high");
    check("instanceName", val(s, "/data/meta/instanceName"), "BPTG-2026-017 · 2026-11-28 · La Êê · nguy cơ Cao");
    // victim_case: the case entity (label, services outstanding, consents)
    check("outstanding none", val(s, "/data/services_outstanding"), "");
    s.answer("/data/needs", "medical", "legal_aid", "livelihood");
    s.answer("/data/services", "legal_aid");
    check("outstanding", val(s, "/data/services_outstanding"), "medical livelihood");
    check("status", val(s, "/data/case_status"), "active");
    check("name-on-phone asked", rel(s, "/data/consent_block/consent_name_on_phone"), true);
    s.answer("/data/consent_block/consent_name_on_phone", "no");
    check("given_name hidden", rel(s, "/data/pii/given_name"), false);
    check("label without name", val(s, "/data/meta/entity/label"), "BPTG-2026-017 · La Êê");
    s.answer("/data/consent_block/consent_name_on_phone", "yes");
    check("given_name shown", rel(s, "/data/pii/given_name"), true);
    s.answer("/data/pii/given_name", "Lan");
    check("label with name", val(s, "/data/meta/entity/label"), "BPTG-2026-017 · La Êê · Lan");
    s.answer("/data/consent_block/consent", "no");
    check("consent withdrawn: no name", val(s, "/data/meta/entity/label"), "BPTG-2026-017 · La Êê");
    check("name-on-phone hidden", rel(s, "/data/consent_block/consent_name_on_phone"), false);
    check("next visit before id", date(s, "/data/follow_up/next_visit", LocalDate.of(2026, 11, 27)), "CONSTRAINT_VIOLATED");
    check("next visit", date(s, "/data/follow_up/next_visit", LocalDate.of(2026, 12, 5)), "OK");

    // case_followup: a case picked from the entity list (cases.csv)
    s = Scenario.init(new File(dir, "case_followup.xml"));
    check("active cases only", choices(s, "/data/visit/case").size(), 2);
    String lan = "0b6f4f3e-8c3a-4b7e-9a51-3f1d2c4b5a61";
    check("pick case", s.answer("/data/visit/case", lan), "OK");
    check("prev risk", val(s, "/data/prev_risk"), "high");
    check("commune from entity", val(s, "/data/commune"), "20698");
    check("commune_name", val(s, "/data/commune_name"), "La Êê");
    check("entity id", val(s, "/data/meta/entity/@id"), lan);
    check("baseVersion", val(s, "/data/meta/entity/@baseVersion"), "2");
    date(s, "/data/visit/visit_date", LocalDate.of(2026, 11, 20));
    s.answer("/data/visit/contact_mode", "home_visit");
    s.answer("/data/visit/met", "no");
    check("not met: no reintegration", rel(s, "/data/reintegration"), false);
    check("not met: outstanding kept", rel(s, "/data/services_outstanding"), false);
    s.answer("/data/visit/met", "yes");
    check("met: reintegration", rel(s, "/data/reintegration/housing"), true);
    check("services none+medical", s.answer("/data/support/services_since", "none", "medical"), "CONSTRAINT_VIOLATED");
    s.answer("/data/support/services_since", "medical");
    s.answer("/data/support/new_needs", "psychological");
    check("outstanding updated", val(s, "/data/services_outstanding"), "psychological legal_aid");
    check("last_contact", val(s, "/data/last_contact"), "2026-11-20");
    check("status default", val(s, "/data/plan/case_status"), "active");
    check("next visit before visit", date(s, "/data/plan/next_visit", LocalDate.of(2026, 11, 19)), "CONSTRAINT_VIOLATED");
    check("next visit ok", date(s, "/data/plan/next_visit", LocalDate.of(2027, 1, 10)), "OK");
    s.answer("/data/plan/case_status", "closed");
    check("closed: no next visit", rel(s, "/data/plan/next_visit"), false);
    check("instanceName", val(s, "/data/meta/instanceName"), "DN-2026-00123 · 2026-11-20 · La Êê · đã gặp");

    // staff_training
    s = Scenario.init(new File(dir, "staff_training.xml"));
    s.answer("/data/event/commune", "20716");
    date(s, "/data/event/training_date", LocalDate.of(2026, 11, 27));
    check("duration default", val(s, "/data/event/duration_days"), "1");
    s.answer("/data/agencies_block/agencies", "police", "womens_union");
    check("police counts shown", rel(s, "/data/counts/women_police"), true);
    check("ngo counts hidden", rel(s, "/data/counts/women_ngo"), false);
    s.answer("/data/counts/women_police", 0);
    check("police 0+0", s.answer("/data/counts/men_police", 0), "CONSTRAINT_VIOLATED");
    check("police 0+4", s.answer("/data/counts/men_police", 4), "OK");
    s.answer("/data/counts/women_womens_union", 6);
    s.answer("/data/counts/men_womens_union", 0);
    check("n_women", val(s, "/data/n_women"), "6");
    check("n_trainees", val(s, "/data/n_trainees"), "10");
    check("trainee agency choices", choices(s, "/data/trainee[1]/trainee_agency"), "[police, womens_union]");
    check("n_roster", val(s, "/data/n_roster"), "1");
    check("roster note", rel(s, "/data/roster_mismatch"), true);
    check("instanceName", val(s, "/data/meta/instanceName"), "2026-11-27 · Đắc Pring · 10 học viên");
    System.out.println(fails == 0 ? "ALL OK" : fails + " FAILED");
    System.exit(fails == 0 ? 0 : 1);
  }
}
