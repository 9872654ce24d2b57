/**
 * Brazil's national holidays, for the delivery calendar of Olist extracts. Source: the federal
 * holiday laws — Lei nº 662/1949 as amended by Lei nº 10.607/2002 (1 Jan, 21 Apr, 1 May, 7 Sep,
 * 2 Nov, 15 Nov, 25 Dec), Lei nº 6.802/1980 (12 Oct) and Lei nº 9.093/1995 (Good Friday, kept as a
 * religious holiday everywhere) — plus Carnival Monday and Tuesday, a federal *ponto facultativo*
 * on which shops, carriers and the Correios largely stop. State and municipal holidays are left
 * out: they vary by place and the calendar is per country.
 */

/** Easter Sunday of a Gregorian year (anonymous Gregorian computus), as a UTC date. */
export function easterSunday(year: number): Date {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return new Date(Date.UTC(year, month - 1, day));
}

/** The national holidays of one year: ISO date and Portuguese name, in date order. */
export function brazilHolidays(year: number): { day: string; name: string }[] {
  const fixed = (month: number, day: number, name: string) => ({ day: new Date(Date.UTC(year, month - 1, day)), name });
  const easter = easterSunday(year).getTime();
  const fromEaster = (days: number, name: string) => ({ day: new Date(easter + days * 86_400_000), name });
  return [
    fixed(1, 1, 'Confraternização Universal'),
    fromEaster(-48, 'Carnaval (segunda-feira)'),
    fromEaster(-47, 'Carnaval (terça-feira)'),
    fromEaster(-2, 'Sexta-feira da Paixão'),
    fixed(4, 21, 'Tiradentes'),
    fixed(5, 1, 'Dia do Trabalho'),
    fixed(9, 7, 'Independência do Brasil'),
    fixed(10, 12, 'Nossa Senhora Aparecida'),
    fixed(11, 2, 'Finados'),
    fixed(11, 15, 'Proclamação da República'),
    fixed(12, 25, 'Natal'),
  ]
    .sort((x, y) => x.day.getTime() - y.day.getTime())
    .map((h) => ({ day: h.day.toISOString().slice(0, 10), name: h.name }));
}
