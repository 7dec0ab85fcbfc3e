"""lab_support: SEK 08-04-08 Öğrenci Bilgisayar Laboratuvarları Destek Hizmetleri Sunum Süreci."""
