import { DOCKER_FUNCS, goMap, parseTemplate, tabwrite, TemplateError } from '../../../src/common/gotemplate.js';

class State {
  constructor(private readonly n: number, private readonly s: string) {}
  toString() { return this.s; }
  toJSON() { return this.n; }
}

const item = { Name: 'm0', Active: '-', ActiveHost: false, State: new State(1, 'Running'), URL: 'tcp://10.0.0.2:2376', Labels: ['a=b', 'c=d'], Opts: { Dns: null, Mtu: 0 }, Empty: [] as string[], Html: '<a&b>' };
const run = (t: string, data: unknown = item) => parseTemplate(t, DOCKER_FUNCS).execute(data);

test.each([
  ['{{.Name}} {{.State}}', 'm0 Running'],
  ['{{ .Name }}\t{{.URL}}', 'm0\ttcp://10.0.0.2:2376'],
  ['{{json .Name}}', '"m0"'],
  ['{{json .State}}', '1'],
  ['{{json .Labels}}', '["a=b","c=d"]'],
  ['{{json .Html}}', '"\\u003ca\\u0026b\\u003e"'],
  ['{{json .Opts}}', '{"Dns":null,"Mtu":0}'],
  ['{{prettyjson .Opts}}', '{\n    "Dns": null,\n    "Mtu": 0\n}'],
  ['{{upper .Name}} {{.Name | upper}} {{lower "AbC"}}', 'M0 M0 abc'],
  ['{{join .Labels ","}}', 'a=b,c=d'],
  ['{{split "a,b,c" ","}}', '[a b c]'],
  ['{{index (split "a,b,c" ",") 1}}', 'b'],
  ['{{range .Labels}}[{{.}}]{{end}}', '[a=b][c=d]'],
  ['{{range $i, $l := .Labels}}{{$i}}={{$l}};{{end}}', '0=a=b;1=c=d;'],
  ['{{range .Empty}}x{{else}}none{{end}}', 'none'],
  ['{{if .ActiveHost}}yes{{else}}no{{end}}', 'no'],
  ['{{if eq .State "Stopped"}}s{{else if eq .State "Running"}}r{{else}}?{{end}}', 'r'],
  ['{{if and .Name (not .ActiveHost)}}ok{{end}}', 'ok'],
  ['{{or .Active "x"}}', '-'],
  ['{{with .Opts}}{{.Mtu}}{{end}}', '0'],
  ['{{$n := .Name}}{{$n}}-{{$.URL}}', 'm0-tcp://10.0.0.2:2376'],
  ['{{printf "%-4s|%3d|%q" .Name 7 .Active}}', 'm0  |  7|"-"'],
  ['{{len .Labels}} {{.Labels}} {{.ActiveHost}}', '2 [a=b c=d] false'],
  ['{{- .Name -}}  \n {{.Active}}', 'm0-'],
  ['{{/* a comment */}}{{.Name}}', 'm0'],
  ['{{.Name | printf "%s!" | upper}}', 'M0!'],
])('%j', (t, want) => {
  expect(run(t)).toBe(want);
});

test('a map: a missing key is <no value>, not an error', () => {
  expect(run('{{.Name}} {{.Nope}}', goMap({ Name: 'NAME' }))).toBe('NAME <no value>');
});

test.each([
  ['{{.Nope}}', /can't evaluate field Nope/],
  ['{{.Opts.Nope}}', /can't evaluate field Nope/],
  ['{{nofunc .Name}}', /function "nofunc" not defined/],
  ['{{if .Name}}x', /unexpected EOF/],
  ['{{.Name', /unclosed action/],
  ['{{.Name 3}}', /can't give argument to non-function/],
  ['{{$x}}', /undefined variable/],
  ['{{eq .Name 3}}', /incompatible types/],
])('%j is an error', (t, message) => {
  expect(() => run(t)).toThrow(TemplateError);
  expect(() => run(t)).toThrow(message);
});

test('tabwrite pads every tab-terminated cell to its column (minwidth, padding), never the last', () => {
  expect(tabwrite('NAME\tACTIVE\tERRORS\nm0\t-\t\nlonger-name\t*\tboom\n', 5, 3)).toBe(
    'NAME          ACTIVE   ERRORS\nm0            -        \nlonger-name   *        boom\n');
});
