// XEP-0004 data forms: the spec's examples (the bot configuration form, its submission, a
// result table) parsed, typed and round-tripped through buildSubmit / buildForm.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { el, wire } from '../../../test/helpers/memory-transport.ts';
import { buildForm, buildSubmit, cancelForm, fieldValue, formValues, getField, parseForm } from './forms.ts';

const fixture = (name: string) =>
  el(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim());

describe('data forms (XEP-0004)', () => {
  test('a form: title, instructions, FORM_TYPE, every field type, options, required, desc', () => {
    const f = parseForm(fixture('xep0004-form.xml'));
    assert.equal(f.type, 'form');
    assert.equal(f.title, 'Bot Configuration');
    assert.deepEqual(f.instructions, ['Fill out this form to configure your new bot!']);
    assert.equal(f.formType, 'jabber:bot');
    assert.equal(f.fields.filter((x) => x.type === 'fixed').length, 4);
    assert.equal(getField(f, 'public')?.type, 'boolean');
    assert.equal(getField(f, 'public')?.required, true);
    assert.equal(getField(f, 'botname')?.label, 'The name of your bot');
    const features = getField(f, 'features')!;
    assert.deepEqual(
      features.options.map((o) => o.value),
      ['contests', 'news', 'polls', 'reminders', 'search'],
    );
    assert.deepEqual(fieldValue(features), ['news', 'search']);
    assert.equal(getField(f, 'invitelist')?.desc, 'Tell all your friends about your new bot!');
    assert.deepEqual(fieldValue(getField(f, 'invitelist')!), []);
    assert.equal(fieldValue(getField(f, 'maxsubs')!), '20');
    assert.equal(fieldValue(getField(f, 'botname')!), undefined);
  });

  test('a submission reads as typed values and round-trips through buildSubmit', () => {
    const sub = parseForm(fixture('xep0004-submit.xml'));
    assert.equal(sub.type, 'submit');
    const v = formValues(sub);
    assert.equal(v.public, false);
    assert.equal(v.botname, 'The Jabber Google Bot');
    assert.equal((v.description as string[]).length, 4);
    assert.deepEqual(v.invitelist, ['juliet@capulet.com', 'benvolio@montague.net']);
    assert.equal(v.FORM_TYPE, 'jabber:bot');
    // Answer the original form with the submission's values: the same values come out.
    const form = parseForm(fixture('xep0004-form.xml'));
    const { FORM_TYPE: _, ...values } = v;
    const again = parseForm(buildSubmit(values, { base: form }));
    assert.equal(again.type, 'submit');
    assert.equal(again.formType, 'jabber:bot');
    assert.deepEqual(
      formValues({
        ...again,
        fields: again.fields.map((f) => ({ ...f, type: getField(form, f.var ?? '')?.type ?? f.type })),
      }),
      v,
    );
    // Fixed fields carry nothing to submit.
    assert.equal(again.fields.filter((f) => f.var === undefined).length, 0);
  });

  test('buildSubmit: booleans as 1/0, arrays as several values, undefined left out, base values kept', () => {
    const form = parseForm(fixture('xep0004-form.xml'));
    const x = buildSubmit(
      { public: true, botname: 'Bot', password: undefined, extra: ['a', 'b'] },
      { base: form },
    );
    const f = parseForm(x);
    assert.deepEqual(getField(f, 'public')?.values, ['1']);
    assert.deepEqual(getField(f, 'features')?.values, ['news', 'search']);
    assert.deepEqual(getField(f, 'extra')?.values, ['a', 'b']);
    assert.deepEqual(getField(f, 'password')?.values, []);
    assert.equal(
      wire(buildSubmit({ 'muc#roomconfig_roomname': 'Kitchen' }, { formType: 'urn:x' })),
      "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:x</value></field><field var='muc#roomconfig_roomname'><value>Kitchen</value></field></x>",
    );
    assert.equal(wire(buildSubmit({})), "<x xmlns='jabber:x:data' type='submit'/>");
    assert.equal(wire(cancelForm()), "<x xmlns='jabber:x:data' type='cancel'/>");
  });

  test('a result table (reported + items) and buildForm round trip', () => {
    const r = parseForm(fixture('xep0004-result.xml'));
    assert.equal(r.type, 'result');
    assert.deepEqual(
      r.reported?.map((f) => f.var),
      ['name', 'url'],
    );
    assert.equal(r.items.length, 2);
    assert.equal(r.items[1]?.[1]?.values[0], 'http://www.hellasverona.it/');
    const form = parseForm(fixture('xep0004-form.xml'));
    assert.deepEqual(parseForm(buildForm(form)), form);
    assert.deepEqual(parseForm(buildForm(r)), r);
  });

  test('booleans: 1/true and 0/false; unknown types read as text-single', () => {
    const f = parseForm(
      el(
        "<x xmlns='jabber:x:data'><field var='a' type='boolean'><value>true</value></field><field var='b' type='boolean'><value>0</value></field><field var='c' type='weird'><value>x</value></field></x>",
      ),
    );
    assert.deepEqual(formValues(f), { a: true, b: false, c: 'x' });
    assert.equal(getField(f, 'c')?.type, 'text-single');
  });
});
