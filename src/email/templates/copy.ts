import type { NbaAction } from '../../domain/nba.js';
import type { EmailKind, EmailLocale } from '../kinds.js';

/**
 * The words of every template, per kind and locale. `{{name}}` is filled (escaped) at render time;
 * see `TemplateVars` for the names. Only the system adds offers and unsubscribe footers.
 */
export interface KindCopy {
  subject: string;
  preheader: string;
  heading: string;
  paragraphs: string[];
  /** Shows the live-ETA image (the window as of open time). */
  etaImage?: boolean;
  /** Call-to-action buttons; `url` names a link variable. */
  actions: Array<{ label: string; url: LinkVar }>;
}

export type LinkVar = 'track_url' | 'reschedule_url' | 'return_url' | 'survey_url';

export interface SharedCopy {
  greeting: string;
  windowLabel: string;
  trackingLabel: string;
  footerTransactional: string;
  footerPromotional: string;
  unsubscribe: string;
  offerHeading: string;
  offerLine: string;
}

export const SHARED: Record<EmailLocale, SharedCopy> = {
  en: {
    greeting: 'Hi {{first_name}},',
    windowLabel: 'Expected delivery',
    trackingLabel: 'Tracking number',
    footerTransactional: 'You are receiving this email because of an order you placed with {{brand}}.',
    footerPromotional: 'You are receiving this offer because you agreed to hear from {{brand}}.',
    unsubscribe: 'Unsubscribe from offers',
    offerHeading: 'A little something for you',
    offerLine: '{{offer_text}}',
  },
  'pt-BR': {
    greeting: 'Olá, {{first_name}},',
    windowLabel: 'Previsão de entrega',
    trackingLabel: 'Código de rastreio',
    footerTransactional: 'Você está recebendo este e-mail por causa de um pedido feito na {{brand}}.',
    footerPromotional: 'Você está recebendo esta oferta porque aceitou receber novidades da {{brand}}.',
    unsubscribe: 'Cancelar o recebimento de ofertas',
    offerHeading: 'Um presente para você',
    offerLine: '{{offer_text}}',
  },
};

export const COPY: Record<EmailKind, Record<EmailLocale, KindCopy>> = {
  shipped: {
    en: {
      subject: 'Your order is on its way',
      preheader: 'Expected delivery: {{window}}',
      heading: 'Your order has shipped',
      paragraphs: ['Good news: {{carrier}} has your parcel and it is heading to {{dest_city}}.'],
      etaImage: true,
      actions: [{ label: 'Track your parcel', url: 'track_url' }],
    },
    'pt-BR': {
      subject: 'Seu pedido está a caminho',
      preheader: 'Previsão de entrega: {{window}}',
      heading: 'Seu pedido foi enviado',
      paragraphs: ['Boa notícia: a {{carrier}} já está com o seu pacote, a caminho de {{dest_city}}.'],
      etaImage: true,
      actions: [{ label: 'Acompanhar a entrega', url: 'track_url' }],
    },
  },
  delay: {
    en: {
      subject: 'Update: your delivery is running late',
      preheader: 'New expected delivery: {{window}}',
      heading: 'Your delivery is running late',
      paragraphs: ['{{delay_reason}} We are sorry for the wait.', 'Here is what you can do:'],
      etaImage: true,
      actions: [
        { label: 'Keep waiting and track it', url: 'track_url' },
        { label: 'Choose another delivery day', url: 'reschedule_url' },
        { label: 'Cancel and return for a refund', url: 'return_url' },
      ],
    },
    'pt-BR': {
      subject: 'Atualização: sua entrega vai atrasar',
      preheader: 'Nova previsão de entrega: {{window}}',
      heading: 'Sua entrega está atrasada',
      paragraphs: ['{{delay_reason}} Pedimos desculpas pela espera.', 'Veja o que você pode fazer:'],
      etaImage: true,
      actions: [
        { label: 'Aguardar e acompanhar', url: 'track_url' },
        { label: 'Escolher outro dia de entrega', url: 'reschedule_url' },
        { label: 'Cancelar e devolver com reembolso', url: 'return_url' },
      ],
    },
  },
  out_for_delivery: {
    en: {
      subject: 'Arriving today: your order is out for delivery',
      preheader: 'Your parcel is on the delivery vehicle',
      heading: 'Out for delivery',
      paragraphs: ['Your parcel is on the {{carrier}} vehicle and should reach {{dest_city}} today.'],
      etaImage: true,
      actions: [{ label: 'Track your parcel', url: 'track_url' }],
    },
    'pt-BR': {
      subject: 'Chega hoje: seu pedido saiu para entrega',
      preheader: 'Seu pacote está no veículo de entrega',
      heading: 'Saiu para entrega',
      paragraphs: ['Seu pacote está no veículo da {{carrier}} e deve chegar em {{dest_city}} hoje.'],
      etaImage: true,
      actions: [{ label: 'Acompanhar a entrega', url: 'track_url' }],
    },
  },
  delivered: {
    en: {
      subject: 'Delivered: how did we do?',
      preheader: 'Your parcel was delivered on {{delivered_on}}',
      heading: 'Your order was delivered',
      paragraphs: ['Your parcel was delivered in {{dest_city}} on {{delivered_on}}.', 'How was your delivery? It takes ten seconds to tell us.'],
      actions: [{ label: 'Rate your delivery', url: 'survey_url' }],
    },
    'pt-BR': {
      subject: 'Entregue: como foi sua experiência?',
      preheader: 'Seu pacote foi entregue em {{delivered_on}}',
      heading: 'Seu pedido foi entregue',
      paragraphs: ['Entregamos seu pacote em {{delivered_on}}, em {{dest_city}}.', 'Como foi a sua entrega? Leva dez segundos para nos contar.'],
      actions: [{ label: 'Avaliar a entrega', url: 'survey_url' }],
    },
  },
  failed_attempt: {
    en: {
      subject: 'We missed you: choose a new delivery day',
      preheader: '{{carrier}} tried to deliver your parcel',
      heading: 'We tried to deliver your parcel',
      paragraphs: ['{{carrier}} could not deliver your parcel today. Pick a day that suits you and we will try again.'],
      actions: [{ label: 'Reschedule delivery', url: 'reschedule_url' }],
    },
    'pt-BR': {
      subject: 'Não encontramos você: escolha um novo dia de entrega',
      preheader: 'A {{carrier}} tentou entregar seu pacote',
      heading: 'Tentamos entregar seu pacote',
      paragraphs: ['A {{carrier}} não conseguiu entregar seu pacote hoje. Escolha o melhor dia e tentaremos de novo.'],
      actions: [{ label: 'Reagendar a entrega', url: 'reschedule_url' }],
    },
  },
  return_label: {
    en: {
      subject: 'Your return label is ready',
      preheader: 'Print it or show the code at a drop-off point',
      heading: 'Your return label is ready',
      paragraphs: ['Print the label, attach it to the parcel and drop it off at any {{carrier}} location.'],
      actions: [{ label: 'Get your return label', url: 'return_url' }],
    },
    'pt-BR': {
      subject: 'Sua etiqueta de devolução está pronta',
      preheader: 'Imprima ou mostre o código em um ponto de coleta',
      heading: 'Sua etiqueta de devolução está pronta',
      paragraphs: ['Imprima a etiqueta, cole no pacote e entregue em qualquer agência da {{carrier}}.'],
      actions: [{ label: 'Obter a etiqueta de devolução', url: 'return_url' }],
    },
  },
  return_received: {
    en: {
      subject: 'We received your return',
      preheader: 'Your refund is being processed',
      heading: 'We received your return',
      paragraphs: ['Your returned parcel arrived on {{received_on}}. We are processing your refund and will email you when it is issued.'],
      actions: [{ label: 'See your return', url: 'return_url' }],
    },
    'pt-BR': {
      subject: 'Recebemos sua devolução',
      preheader: 'Seu reembolso está sendo processado',
      heading: 'Recebemos sua devolução',
      paragraphs: ['Recebemos sua devolução em {{received_on}} e estamos processando o reembolso; avisaremos por e-mail quando for emitido.'],
      actions: [{ label: 'Ver sua devolução', url: 'return_url' }],
    },
  },
  refund_issued: {
    en: {
      subject: 'Your refund has been issued',
      preheader: 'Refund: {{refund_amount}}',
      heading: 'Your refund is on its way',
      paragraphs: ['We issued a refund of {{refund_amount}} on {{refunded_on}}. Depending on your bank it can take a few days to appear.'],
      actions: [{ label: 'See your return', url: 'return_url' }],
    },
    'pt-BR': {
      subject: 'Seu reembolso foi emitido',
      preheader: 'Reembolso: {{refund_amount}}',
      heading: 'Seu reembolso está a caminho',
      paragraphs: ['Em {{refunded_on}}, emitimos um reembolso de {{refund_amount}}. Dependendo do seu banco, pode levar alguns dias para aparecer.'],
      actions: [{ label: 'Ver sua devolução', url: 'return_url' }],
    },
  },
};

/**
 * What a next-best action adds to the delay email: paragraphs after the reason for the delay, an
 * optional subject, and the call to action to put first. `none` is the plain delay notice.
 */
export interface DelayActionCopy {
  subject?: string;
  paragraphs: string[];
  primary?: LinkVar;
}

export const DELAY_ACTION_COPY: Record<Exclude<NbaAction, 'none'>, Record<EmailLocale, DelayActionCopy>> = {
  apology_notice: {
    en: {
      subject: 'We are sorry: your delivery is running late',
      paragraphs: ['This is not the delivery we promised you, and we apologize. We are keeping a close eye on your parcel until it reaches {{dest_city}}.'],
    },
    'pt-BR': {
      subject: 'Pedimos desculpas: sua entrega vai atrasar',
      paragraphs: ['Esta não é a entrega que prometemos, e pedimos desculpas. Estamos acompanhando seu pacote de perto até ele chegar em {{dest_city}}.'],
    },
  },
  reschedule_offer: {
    en: {
      paragraphs: ['If the new date does not suit you, choose the delivery day that does: we will pass it on to {{carrier}}.'],
      primary: 'reschedule_url',
    },
    'pt-BR': {
      paragraphs: ['Se a nova data não for boa para você, escolha o dia de entrega que preferir: nós avisamos a {{carrier}}.'],
      primary: 'reschedule_url',
    },
  },
  discount_code: {
    en: { paragraphs: ['To make up for it, there is a discount on your next order below.'] },
    'pt-BR': { paragraphs: ['Para compensar, há um desconto na sua próxima compra logo abaixo.'] },
  },
  shipping_refund: {
    en: {
      subject: 'Your delivery is running late: we are refunding your shipping',
      paragraphs: ['To make up for the wait, we are refunding {{shipping_refund}} on this order. There is nothing you need to do: it goes back to your original payment method.'],
    },
    'pt-BR': {
      subject: 'Sua entrega vai atrasar: vamos reembolsar o frete',
      paragraphs: ['Para compensar a espera, vamos reembolsar {{shipping_refund}} neste pedido. Você não precisa fazer nada: o valor volta para a forma de pagamento original.'],
    },
  },
};

/** The delay copy with an action's additions: its paragraphs after the first (the reason), its call to action first. */
export function delayCopyWith(copy: KindCopy, add: DelayActionCopy): KindCopy {
  const primary = add.primary ? copy.actions.filter((a) => a.url === add.primary) : [];
  return {
    ...copy,
    subject: add.subject ?? copy.subject,
    paragraphs: [copy.paragraphs[0], ...add.paragraphs, ...copy.paragraphs.slice(1)],
    actions: [...primary, ...copy.actions.filter((a) => !primary.includes(a))],
  };
}

/** Locale-specific phrases the composer picks between. */
export const PHRASES: Record<EmailLocale, { friend: string; soon: string; byDay: string; carrierDelay: string; predictiveDelay: string; fullAmount: string; percentOff: string; amountOff: string; offerCode: string; shippingPaid: string; shippingPaidUnknown: string }> = {
  en: {
    friend: 'there',
    soon: 'in the coming days',
    byDay: 'by {{day}}',
    carrierDelay: 'The carrier reported a delay with your parcel.',
    predictiveDelay: 'Our tracking shows your parcel is running behind its promised date.',
    fullAmount: 'the full amount',
    percentOff: '{{percent}}% off your next order',
    amountOff: '{{amount}} off your next order',
    offerCode: 'with code {{code}}',
    shippingPaid: 'the {{amount}} you paid for shipping',
    shippingPaidUnknown: 'what you paid for shipping',
  },
  'pt-BR': {
    friend: 'cliente',
    soon: 'nos próximos dias',
    byDay: 'até {{day}}',
    carrierDelay: 'A transportadora informou um atraso com o seu pacote.',
    predictiveDelay: 'Nosso rastreamento indica que seu pacote está atrasado em relação à data prometida.',
    fullAmount: 'o valor integral',
    percentOff: '{{percent}}% de desconto na sua próxima compra',
    amountOff: '{{amount}} de desconto na sua próxima compra',
    offerCode: 'com o cupom {{code}}',
    shippingPaid: 'os {{amount}} que você pagou de frete',
    shippingPaidUnknown: 'o valor que você pagou de frete',
  },
};
